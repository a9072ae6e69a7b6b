// The service provider's endpoints per tenant and IdP: SP metadata, SP-initiated login, ACS
// (acs.route.ts), single logout. They translate SAML to core calls; core decides who may sign in.
import { Router, type Request, type Response } from 'express';
import {
  endSession,
  endSessionsBySamlLogout,
  findSamlIdp,
  listSamlIdps,
  SAML_BINDING,
  serviceProviderUrls,
  SSO_PATHS,
  tenantSsoPath,
  fillPath,
  type SamlIdp,
  type Tenant,
} from '@roster/core';
import { HttpError } from '@roster/http';
import {
  bindingHash,
  clearCookie,
  LOGIN_COOKIE,
  newCookieValue,
  readCookie,
  SESSION_COOKIE,
  setCookie,
} from '../http/cookies.js';
import { errorPage, signedOutPage } from '../http/pages.js';
import { DatabaseRequestIdCache } from '../saml/request-id.cache.js';
import { createSamlClient } from '../saml/saml-client.factory.js';
import { acsRouter } from './acs.route.js';
import {
  checkReturnTo,
  idpOf,
  RETURN_TO_REFUSED,
  returnToOf,
  returnToRefusal,
  SIGNED_OUT_HERE,
  tenantOf,
  type SignedOutNotice,
  type SsoContext,
} from './context.js';

const SAML_METADATA_TYPE = 'application/samlmetadata+xml';

export function samlRouter(ctx: SsoContext): Router {
  const router = Router();
  const { db, clock, settings } = ctx;
  const cookiePath = (tenant: Tenant) => tenantSsoPath(tenant.slug);
  const sessionCookieScope = (tenant: Tenant) => ({
    path: cookiePath(tenant),
    policy: ctx.cookies,
    crossSitePost: true,
  });
  const cacheFor = (
    tenant: Tenant,
    idp: SamlIdp,
    binding: Buffer | null | undefined,
    returnTo?: string | null,
  ) =>
    new DatabaseRequestIdCache({
      db,
      tenantId: tenant.id,
      idpId: idp.id,
      clock,
      ttlMs: settings.requestTtlMs,
      binding,
      returnTo: returnTo ?? null,
    });

  // SP metadata: what the IdP admin uploads (or points the IdP at).
  router.get(SSO_PATHS.metadata, async (req, res) => {
    const { tenant, idp, sp } = await idpOf(ctx, req);
    const saml = createSamlClient(idp, sp, settings, cacheFor(tenant, idp, undefined));
    const certificate = settings.spKeyPair?.certificate ?? null;
    // node-saml always advertises single logout as HTTP-POST, but /slo serves HTTP-Redirect
    // only: an IdP that believed the metadata would POST its logout messages to a 404.
    const metadata = saml
      .generateServiceProviderMetadata(certificate, certificate)
      .replace(
        `<SingleLogoutService Binding="${SAML_BINDING.post}"`,
        `<SingleLogoutService Binding="${SAML_BINDING.redirect}"`,
      );
    res.type(SAML_METADATA_TYPE).send(metadata);
  });

  // SP-initiated login: an AuthnRequest by HTTP-Redirect, bound to this browser.
  router.get(SSO_PATHS.login, async (req, res) => {
    const { tenant, idp, sp } = await idpOf(ctx, req);
    const returnTo = checkReturnTo(req.query.returnTo, tenant, ctx.baseUrl);
    const browser = readCookie(req, LOGIN_COOKIE) ?? newCookieValue();
    const saml = createSamlClient(
      idp,
      sp,
      settings,
      cacheFor(tenant, idp, bindingHash(browser), returnTo),
    );
    const location = await saml.getAuthorizeUrlAsync('', undefined, {});
    setCookie(res, LOGIN_COOKIE, browser, {
      path: cookiePath(tenant),
      policy: ctx.cookies,
      maxAgeMs: settings.requestTtlMs,
      crossSitePost: true,
    });
    res.set('cache-control', 'no-store').redirect(302, location);
  });

  router.use(acsRouter(ctx));

  // Single logout (HTTP-Redirect): the IdP's LogoutRequest, or its LogoutResponse to ours.
  router.get(SSO_PATHS.slo, async (req, res) => {
    const { tenant, idp, sp } = await idpOf(ctx, req);
    const query = req.query as Record<string, string | undefined>;
    const rawQuery = req.originalUrl.split('?')[1] ?? '';
    // Whatever the message, the browser that brings it is signed out here: its cookie is cleared,
    // so the session it names ends too (never another browser's: that takes a verified message).
    const token = readCookie(req, SESSION_COOKIE);
    if (token) await endSession(db, tenant.id, token);
    clearCookie(res, SESSION_COOKIE, sessionCookieScope(tenant));
    res.set('cache-control', 'no-store');
    // node-saml 5.1.0 accepts an unsigned redirect message: require the signature.
    if ((!query.SAMLRequest && !query.SAMLResponse) || !query.Signature || !query.SigAlg) {
      req.log.warn(
        { tenant: tenant.slug, idpId: idp.id, reason: 'unsigned_logout' },
        'sso.logout.refused',
      );
      throw new HttpError(
        400,
        'InvalidLogout',
        `The sign-out message is not signed by your identity provider. ${SIGNED_OUT_HERE}`,
      );
    }
    const cache = cacheFor(tenant, idp, null);
    const saml = createSamlClient(idp, sp, settings, cache);
    let result: Awaited<ReturnType<typeof saml.validateRedirectAsync>>;
    try {
      result = await saml.validateRedirectAsync(query, rawQuery);
    } catch (error) {
      req.log.warn(
        {
          tenant: tenant.slug,
          idpId: idp.id,
          reason: 'invalid_logout',
          detail: (error as Error).message,
        },
        'sso.logout.refused',
      );
      throw new HttpError(
        400,
        'InvalidLogout',
        `The sign-out message could not be verified. ${SIGNED_OUT_HERE}`,
      );
    }
    if (query.SAMLRequest && result.profile) {
      const ended = await endSessionsBySamlLogout(
        db,
        tenant.id,
        idp.id,
        result.profile.nameID,
        result.profile.sessionIndex,
      );
      req.log.info(
        { tenant: tenant.slug, idpId: idp.id, sessionsEnded: ended },
        'sso.logout.idp_initiated',
      );
      const location = await saml.getLogoutResponseUrlAsync(
        result.profile,
        query.RelayState ?? '',
        {},
        true,
      );
      return res.redirect(302, location);
    }
    if (cache.answeredReturnTo) return res.redirect(303, cache.answeredReturnTo);
    signedOutPage(res, await loginLinks(tenant));
  });

  // Local logout, then SAML single logout at the IdP when it offers it. A sign-out always signs
  // out: a returnTo that is not allowed is refused only once the session has ended.
  const logout = async (req: Request, res: Response) => {
    const tenant = await tenantOf(ctx, req);
    const asked = returnToOf(req.query.returnTo, tenant, ctx.baseUrl);
    const token = readCookie(req, SESSION_COOKIE);
    const ended = token ? await endSession(db, tenant.id, token) : undefined;
    clearCookie(res, SESSION_COOKIE, sessionCookieScope(tenant));
    res.set('cache-control', 'no-store');
    if (asked.refused)
      req.log.warn({ tenant: tenant.slug, reason: asked.refused }, 'sso.logout.return_to_refused');
    const idp = ended?.idpId ? await findSamlIdp(db, tenant.id, ended.idpId) : undefined;
    if (ended?.nameId && idp?.sloUrl) {
      const sp = serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id);
      // After the IdP's answer the browser comes back to a page that says the address was refused.
      const returnTo = asked.refused ? signedOutUrl(tenant, RETURN_TO_REFUSED) : asked.url;
      const saml = createSamlClient(idp, sp, settings, cacheFor(tenant, idp, null, returnTo));
      const location = await saml.getLogoutUrlAsync(
        {
          issuer: idp.entityId,
          nameID: ended.nameId,
          nameIDFormat:
            ended.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
          ...(ended.sessionIndex ? { sessionIndex: ended.sessionIndex } : {}),
        },
        '',
        {},
      );
      req.log.info({ tenant: tenant.slug, idpId: idp.id }, 'sso.logout.single_logout');
      return res.redirect(303, location);
    }
    req.log.info({ tenant: tenant.slug, ended: Boolean(ended) }, 'sso.logout');
    if (asked.refused)
      return signedOutRefusal(req, res, tenant, returnToRefusal(asked.refused, 'sign-out'));
    if (asked.url) return res.redirect(303, asked.url);
    signedOutPage(res, await loginLinks(tenant));
  };
  router.get(SSO_PATHS.logout, logout);
  router.post(SSO_PATHS.logout, logout);

  /** The tenant's signed-out page with a notice (`?notice=`), where a redirect must say something. */
  const signedOutUrl = (tenant: Tenant, notice: SignedOutNotice) =>
    `${ctx.baseUrl}${fillPath(SSO_PATHS.landing, { tenant: tenant.slug })}?notice=${notice}`;

  /** Signed out, but what was asked with it is refused: 400, as a page or as JSON. */
  async function signedOutRefusal(req: Request, res: Response, tenant: Tenant, message: string) {
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(400).json({
        error: { code: 'ReturnToNotAllowed', message, requestId: req.id },
      });
      return;
    }
    signedOutPage(res, await loginLinks(tenant), { status: 400, notice: message });
  }

  async function loginLinks(tenant: Tenant) {
    return (await listSamlIdps(db, tenant.id)).map((idp) => ({
      name: idp.name,
      url: serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id).loginUrl,
    }));
  }

  return router;
}

/** An error page for browsers (HTML) at the SAML endpoints; whoami and the rest answer JSON. */
export function wantsHtml(req: Request): boolean {
  return (
    req.path.startsWith('/saml/') &&
    !req.path.endsWith('/whoami') &&
    req.accepts(['json', 'html']) === 'html'
  );
}

/** What a person was doing at a SAML endpoint, for the error page's title. */
export function actionOf(req: Request): 'sign-in' | 'sign-out' {
  return /\/(logout|slo)\/?$/.test(req.path) ? 'sign-out' : 'sign-in';
}

export { errorPage };
