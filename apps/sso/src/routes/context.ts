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
import type { TenantProviders } from '../oidc/providers.js';
import type { SsoSettings } from '../saml/settings.js';

export interface SsoContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly settings: SsoSettings;
  readonly baseUrl: string;
  /** What the cookies can be, from the public base URL (`cookiePolicyOf`). */
  readonly cookies: CookiePolicy;
  /** The tenants' OpenID Providers; a SAML sign-in may answer one of their authorizations. */
  readonly providers: TenantProviders;
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
  const asked = returnToOf(value, tenant, ssoBaseUrl);
  if (asked.refused)
    throw new HttpError(400, 'ReturnToNotAllowed', returnToRefusal(asked.refused, 'sign-in'));
  return asked.url;
}

/** Why a returnTo is refused. */
export type ReturnToRefusal = 'not_allowed' | 'too_long';

/** `checkReturnTo` without the throw: where sign-out must go on even when it is refused. */
export function returnToOf(
  value: unknown,
  tenant: Tenant,
  ssoBaseUrl: string,
): { readonly url?: string; readonly refused: ReturnToRefusal | false } {
  if (value === undefined || value === '') return { refused: false };
  const notAllowed = { refused: 'not_allowed' } as const;
  if (typeof value !== 'string') return notAllowed;
  if (value.length > MAX_RETURN_TO_LENGTH) return { refused: 'too_long' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return notAllowed;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    return notAllowed;
  const allowed = new Set([...tenant.allowedOrigins, new URL(ssoBaseUrl).origin]);
  if (!allowed.has(url.origin)) return notAllowed;
  return { url: url.href, refused: false };
}

/** What the person is told about a refused returnTo. */
export function returnToRefusal(why: ReturnToRefusal, action: 'sign-in' | 'sign-out'): string {
  const what = `The address to return to after ${action}`;
  const said =
    why === 'too_long'
      ? `${what} is longer than ${MAX_RETURN_TO_LENGTH} characters.`
      : `${what} is not allowed for this organisation.`;
  return action === 'sign-out' ? `You are signed out. ${said}` : said;
}

/** Said wherever a sign-out message is refused: the browser that brought it is signed out anyway. */
export const SIGNED_OUT_HERE =
  'You are signed out of Roster here; your identity provider may still have you signed in.';

export const RETURN_TO_REFUSED = 'return_to_refused';
/** Notices the signed-out page shows (`?notice=<key>`): fixed texts, never echoed input. */
export const SIGNED_OUT_NOTICES = {
  [RETURN_TO_REFUSED]:
    'You are signed out. The address to return to after sign-out is not allowed for this organisation, so you are here instead.',
} as const;
export type SignedOutNotice = keyof typeof SIGNED_OUT_NOTICES;

/** Longest returnTo taken, at login and logout (README "SSO configuration and limits"). */
export const MAX_RETURN_TO_LENGTH = 2048;
