import type { Request } from 'express';
import {
  findSamlIdp,
  findTenantBySlug,
  serviceProviderUrls,
  type Clock,
  type Db,
  type SamlIdp,
  type ServiceProviderUrls,
  type Tenant,
} from '@roster/core';
import { HttpError } from '@roster/http';
import type { CookiePolicy } from '../http/cookies.js';
import type { SsoSettings } from '../saml/settings.js';

export interface SsoContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: SsoSettings;
  readonly baseUrl: string;
  /** What the cookies can be, from the public base URL (`cookiePolicyOf`). */
  readonly cookies: CookiePolicy;
}

export async function tenantOf(ctx: SsoContext, req: Request): Promise<Tenant> {
  const slug = String(req.params.tenant);
  const tenant = await findTenantBySlug(ctx.db, slug);
  if (!tenant) throw new HttpError(404, 'NotFound', 'There is no such organisation here.');
  return tenant;
}

export async function idpOf(
  ctx: SsoContext,
  req: Request,
): Promise<{ tenant: Tenant; idp: SamlIdp; sp: ServiceProviderUrls }> {
  const tenant = await tenantOf(ctx, req);
  const idp = await findSamlIdp(ctx.db, tenant.id, String(req.params.idp));
  if (!idp) throw new HttpError(404, 'NotFound', 'There is no such identity provider here.');
  return { tenant, idp, sp: serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id) };
}

/**
 * Where a browser may be sent after login or logout: an absolute http(s) URL on one of the
 * tenant's allowed origins, or on Roster's own SSO origin. Anything else is refused (no open
 * redirect); undefined when nothing was asked.
 */
export function checkReturnTo(
  value: unknown,
  tenant: Tenant,
  ssoBaseUrl: string,
): string | undefined {
  if (value === undefined || value === '') return undefined;
  const refuse = () =>
    new HttpError(
      400,
      'ReturnToNotAllowed',
      'The address to return to after sign-in is not allowed for this organisation.',
    );
  if (typeof value !== 'string' || value.length > 2048) throw refuse();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse();
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    throw refuse();
  const allowed = new Set([...tenant.allowedOrigins, new URL(ssoBaseUrl).origin]);
  if (!allowed.has(url.origin)) throw refuse();
  return url.href;
}
