// The OpenID Provider's HTTP side in the SSO app: every `/oidc/<tenant>/...` request goes to the
// tenant's provider, except the interaction step, which sends the person to the tenant's SAML
// sign-in (one IdP: straight there; several: a chooser, or the one `login_hint` points at).
// Back from the IdP, the ACS hands the signed-in person to the waiting authorization
// (`finishOidcInteraction`), which the provider then resumes.
import { Router, type Request, type Response } from 'express';
import {
  connectionForLoginHint,
  fillPath,
  listSamlIdps,
  OIDC_PATHS,
  serviceProviderUrls,
  sessionReference,
  type SamlIdp,
  type Tenant,
} from '@roster/core';
import { HttpError } from '@roster/http';
import { escapeHtml, pageHeaders, pageHtml } from '../http/pages.js';
import type { SsoContext } from '../routes/context.js';
import type { ProviderInstance } from './oidc-provider-lib.js';
import type { TenantProviders } from './providers.js';

/** oidc-provider's interaction and grant ids: nanoid, 21 URL-safe characters by default. */
const PROVIDER_UID = /^[A-Za-z0-9_-]{1,64}$/;

const SIGN_IN_EXPIRED =
  'This sign-in has expired or was started in another browser. Go back to the app and sign in again.';

export function oidcRouter(ctx: SsoContext, providers: TenantProviders): Router {
  const router = Router();

  /** The tenant named in the path (remembered briefly: every hop of a sign-in names it). */
  async function tenantOf(req: Request): Promise<Tenant> {
    const tenant = await providers.tenantOf(String(req.params.tenant));
    if (!tenant) throw new HttpError(404, 'NotFound', 'There is no such organisation here.');
    return tenant;
  }

  /** The interaction the browser's cookie names, or a clear 400. */
  async function interactionOf(req: Request, res: Response, provider: ProviderInstance) {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== String(req.params.uid)) throw new Error('another interaction');
      return details;
    } catch {
      throw new HttpError(400, 'SignInExpired', SIGN_IN_EXPIRED);
    }
  }

  /** Off to the IdP's SAML sign-in; the ACS comes back to the provider's resume URL. */
  function toIdp(res: Response, tenant: Tenant, idp: SamlIdp, returnTo: string) {
    const login = new URL(serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id).loginUrl);
    login.searchParams.set('returnTo', returnTo);
    res.set('cache-control', 'no-store').redirect(303, login.href);
  }

  router.get(OIDC_PATHS.interaction, async (req, res) => {
    const tenant = await tenantOf(req);
    const provider = await providers.forTenant(tenant);
    const details = await interactionOf(req, res, provider);
    const idps = await listSamlIdps(ctx.db, tenant.id);
    if (idps.length === 0)
      throw new HttpError(
        409,
        'NoConnection',
        'No identity provider is set up for this organisation yet.',
      );
    const hint =
      typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const hinted =
      idps.length > 1 ? await connectionForLoginHint(ctx.db, tenant.id, hint) : undefined;
    const chosen = idps.length === 1 ? idps[0] : idps.find((idp) => idp.id === hinted);
    if (chosen) return toIdp(res, tenant, chosen, details.returnTo);
    const choices = idps
      .map((idp) => {
        const href = fillPath(OIDC_PATHS.interactionConnection, {
          tenant: tenant.slug,
          uid: details.uid,
          idp: idp.id,
        });
        return `<li><a class="button" href="${escapeHtml(href)}">${escapeHtml(idp.name)}</a></li>`;
      })
      .join('\n');
    res
      .status(200)
      .type('html')
      .set(pageHeaders())
      .send(pageHtml('Sign in with', `<ul id="connections">${choices}</ul>`));
  });

  router.get(OIDC_PATHS.interactionConnection, async (req, res) => {
    const tenant = await tenantOf(req);
    const provider = await providers.forTenant(tenant);
    const details = await interactionOf(req, res, provider);
    const idps = await listSamlIdps(ctx.db, tenant.id);
    const chosen = idps.find((idp) => idp.id === String(req.params.idp));
    if (!chosen) throw new HttpError(404, 'NotFound', 'There is no such identity provider here.');
    toIdp(res, tenant, chosen, details.returnTo);
  });

  // Everything else under the issuer is the provider's. Its cookies say Secure exactly when the
  // public base URL is https, whatever a client claims in X-Forwarded-* headers.
  const publicProtocol = new URL(ctx.baseUrl).protocol.replace(':', '');
  router.use(OIDC_PATHS.issuer, async (req, res) => {
    const tenant = await tenantOf(req);
    const provider = await providers.forTenant(tenant);
    for (const header of ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-for'])
      delete req.headers[header];
    req.headers['x-forwarded-proto'] = publicProtocol;
    await provider.callback()(req, res);
  });

  return router;
}

/**
 * Called by the ACS after a sign-in: when the sign-in was started by an authorization of this
 * tenant's provider (its resume URL is where the browser goes next), that authorization gets its
 * answer: who signed in, and through which Roster session. False when `returnTo` is not such a
 * URL; the provider then answers the browser itself (an expired interaction is its error page).
 */
export async function finishOidcInteraction(
  ctx: SsoContext,
  providers: TenantProviders,
  tenant: Tenant,
  returnTo: string | undefined,
  signedIn: { userId: string; sessionToken: string },
): Promise<boolean> {
  const uid = resumedInteractionOf(ctx.baseUrl, tenant, returnTo);
  if (!uid) return false;
  const provider = await providers.forTenant(tenant);
  const interaction = await provider.Interaction.find(uid);
  if (!interaction || interaction.result) return false;
  interaction.result = {
    login: { accountId: signedIn.userId, ts: Math.floor(ctx.clock.now().getTime() / 1000) },
    roster: { session: sessionReference(signedIn.sessionToken) },
  };
  const ttl = interaction.exp - Math.floor(Date.now() / 1000);
  if (ttl <= 0) return false;
  await interaction.save(ttl);
  return true;
}

/** The interaction uid when `returnTo` is this tenant's resume URL. */
function resumedInteractionOf(
  baseUrl: string,
  tenant: Tenant,
  returnTo: string | undefined,
): string | undefined {
  if (!returnTo) return undefined;
  const prefix = `${baseUrl}${fillPath(OIDC_PATHS.resume, { tenant: tenant.slug, uid: '' })}`;
  if (!returnTo.startsWith(prefix)) return undefined;
  const uid = returnTo.slice(prefix.length);
  return PROVIDER_UID.test(uid) ? uid : undefined;
}
