import type { Express } from 'express';
import type { Clock, Logger, RosterDatabase } from '@roster/core';
import { createBaseApp, finishApp, renderJsonError, type Lifecycle } from '@roster/http';
import type { SsoConfig } from './config.js';
import { cookiePolicyOf, crossSiteSignInWarning } from './http/cookies.js';
import { errorPage } from './http/pages.js';
import { oidcRouter } from './oidc/oidc.route.js';
import { TenantProviders } from './oidc/providers.js';
import { actionOf, samlRouter, wantsHtml } from './routes/saml.route.js';
import { sessionRouter } from './routes/session.route.js';
import { ssoSettingsFrom, type SsoSettings } from './saml/settings.js';

export interface SsoAppDeps {
  readonly database: RosterDatabase;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** Public base URL of this server (SSO_BASE_URL). */
  readonly baseUrl: string;
  /** Public base URL of the SCIM app (SCIM_BASE_URL); absent: no SCIM clients on OAuth. */
  readonly scimBaseUrl?: string;
  /** The process configuration (SAML checks, session timeouts, SP key files). */
  readonly config?: Pick<SsoConfig, 'sso'>;
  /** Settings given directly (tests, benchmarks); win over `config`. */
  readonly settings?: Partial<SsoSettings>;
}

/**
 * Builds the SSO app; never listens (main.ts does). Per tenant and IdP: SP metadata, login,
 * ACS, single logout; per tenant: whoami, logout and the landing page, and the tenant's OpenID
 * Provider (`/oidc/<tenant>`), whose sign-ins go through the tenant's IdPs.
 */
export function createSsoApp(deps: SsoAppDeps): Express {
  const app = createBaseApp({
    name: 'sso',
    logger: deps.logger,
    database: deps.database,
    lifecycle: deps.lifecycle,
  });
  const settings: SsoSettings = { ...ssoSettingsFrom(deps.config), ...deps.settings };
  const ctx = {
    db: deps.database.db,
    clock: deps.clock,
    settings,
    baseUrl: deps.baseUrl,
    cookies: cookiePolicyOf(deps.baseUrl),
    providers: new TenantProviders({
      db: deps.database.db,
      clock: deps.clock,
      logger: deps.logger,
      baseUrl: deps.baseUrl,
      sessionLifetimeMs: settings.sessionAbsoluteTimeoutMs,
      keyRecheckIntervalMs: settings.oidcKeyRecheckIntervalMs,
      scimBaseUrl: deps.scimBaseUrl,
    }),
  };
  const warning = crossSiteSignInWarning(deps.baseUrl);
  if (warning) deps.logger.warn({ ssoBaseUrl: deps.baseUrl }, `sso.insecure_base_url: ${warning}`);
  app.use(samlRouter(ctx));
  app.use(sessionRouter(ctx));
  app.use(oidcRouter(ctx, ctx.providers));
  return finishApp(app, (error, req, res) => {
    if (wantsHtml(req)) errorPage(res, error.status, error.message, req.id, actionOf(req));
    else renderJsonError(error, req, res);
  });
}
