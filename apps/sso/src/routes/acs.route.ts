// The Assertion Consumer Service (HTTP-POST binding): the response is validated here (node-saml
// and the checks it leaves to us), then one core call signs the person in, or records why not.
import express, { Router, type Request, type Response } from 'express';
import {
  refuseSignIn,
  samlConnection,
  serviceProviderUrls,
  signIn,
  SSO_PATHS,
  tenantSsoPath,
  type ChangeContext,
  type SamlIdp,
  type Tenant,
} from '@roster/core';
import {
  bindingHash,
  LOGIN_COOKIE,
  readCookie,
  SESSION_COOKIE,
  setCookie,
} from '../http/cookies.js';
import { errorPage } from '../http/pages.js';
import { finishOidcInteraction } from '../oidc/oidc.route.js';
import { validateAcsResponse } from '../saml/acs-response.js';
import { toAssertion } from '../saml/assertion.mapper.js';
import { refusalAnswer, type RefusalReason } from '../saml/refusals.js';
import { MAX_SAML_RESPONSE_BYTES } from '../saml/response-checks.js';
import { checkReturnTo, idpOf, type SsoContext } from './context.js';

export function acsRouter(ctx: SsoContext): Router {
  const router = Router();
  const { db, clock, settings } = ctx;
  const sessionPolicy = {
    idleTimeoutMs: settings.sessionIdleTimeoutMs,
    absoluteTimeoutMs: settings.sessionAbsoluteTimeoutMs,
  };

  router.post(
    SSO_PATHS.acs,
    express.urlencoded({
      extended: false,
      limit: MAX_SAML_RESPONSE_BYTES + 8192,
      parameterLimit: 10,
    }),
    async (req, res) => {
      const { tenant, idp, sp } = await idpOf(ctx, req);
      const context: ChangeContext = { actor: { type: 'idp', id: idp.id }, requestId: req.id };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const browser = readCookie(req, LOGIN_COOKIE);
      const browserBinding = browser ? bindingHash(browser) : undefined;
      const connection = samlConnection(idp);
      const validated = await validateAcsResponse(
        body.SAMLResponse,
        idp,
        sp,
        settings,
        clock.now(),
      );
      if (!validated.ok) {
        const refused = await refuseSignIn(
          db,
          {
            tenantId: tenant.id,
            connection,
            reason: validated.refusal.reason,
            detail: validated.refusal.detail,
            request: answered(validated.requestId, browserBinding),
            unverifiedAssertionId: validated.unverifiedAssertionId,
          },
          context,
          clock,
        );
        return refusalPage(req, res, tenant, idp, refused);
      }
      const { checked } = validated;
      const result = await signIn(
        db,
        {
          tenantId: tenant.id,
          connection,
          asserted: toAssertion(validated.profile, idp),
          protocol: {
            request: answered(validated.requestId, browserBinding),
            assertion: { id: checked.assertionId, rememberUntil: checked.rememberUntil },
          },
          previousSessionToken: readCookie(req, SESSION_COOKIE),
          sessionPolicy,
        },
        context,
        clock,
      );
      if (result.outcome === 'refused') return refusalPage(req, res, tenant, idp, result);
      startSession(res, tenant, result.session);
      // Started by an app's authorization at the tenant's OpenID Provider: answer it; the
      // browser then resumes there (a top-level GET, so the provider's Lax cookies come along).
      await finishOidcInteraction(ctx, ctx.providers, tenant, result.returnTo ?? undefined, {
        userId: result.user.id,
        sessionToken: result.session.token,
      });
      req.log.info(
        {
          tenant: tenant.slug,
          idpId: idp.id,
          userId: result.user.id,
          created: result.created,
          matchedBy: result.matchedBy,
        },
        'sso.sign_in',
      );
      res
        .set('cache-control', 'no-store')
        .redirect(
          303,
          result.returnTo ??
            relayStateReturnTo(body.RelayState, tenant) ??
            serviceProviderUrls(ctx.baseUrl, tenant.slug, idp.id).landingUrl,
        );
    },
  );

  /** The request a response answers, as the browser that brings it. */
  const answered = (requestId: string | undefined, browserBinding: Buffer | undefined) =>
    requestId === undefined ? undefined : { id: requestId, browserBinding };

  /** A refused sign-in (core wrote its audit event): the log line and the person's page. */
  function refusalPage(
    req: Request,
    res: Response,
    tenant: Tenant,
    idp: SamlIdp,
    refused: { reason: RefusalReason; detail: string },
  ) {
    req.log.warn(
      { reason: refused.reason, detail: refused.detail, tenant: tenant.slug, idpId: idp.id },
      'sso.sign_in.refused',
    );
    const [status, message] = refusalAnswer(refused.reason, ctx.cookies);
    errorPage(res, status, message, req.id);
  }

  /** The new session's cookie (the previous session ended in core's sign-in). */
  function startSession(res: Response, tenant: Tenant, session: { token: string }) {
    setCookie(res, SESSION_COOKIE, session.token, {
      path: tenantSsoPath(tenant.slug),
      policy: ctx.cookies,
      maxAgeMs: settings.sessionAbsoluteTimeoutMs,
      // The next login's ACS (a cross-site POST) must see it to end this session.
      crossSitePost: true,
    });
  }

  /** IdP-initiated RelayState is untrusted: used only when it is an allowed return address. */
  function relayStateReturnTo(relayState: unknown, tenant: Tenant): string | undefined {
    try {
      return checkReturnTo(relayState, tenant, ctx.baseUrl);
    } catch {
      return undefined;
    }
  }

  return router;
}
