import type { Express } from 'express';
import type { Clock, Logger, RosterDatabase } from '@roster/core';
import { createBaseApp, finishApp, type Lifecycle } from '@roster/http';

export interface SsoAppDeps {
  readonly database: RosterDatabase;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** Public base URL of this server (SSO_BASE_URL). */
  readonly baseUrl: string;
}

/**
 * Builds the SSO app; never listens (main.ts does). It serves health and metrics; SAML
 * service providers per tenant and IdP are mounted here by the SSO issue.
 */
export function createSsoApp(deps: SsoAppDeps): Express {
  const app = createBaseApp({
    name: 'sso',
    logger: deps.logger,
    database: deps.database,
    lifecycle: deps.lifecycle,
  });
  return finishApp(app);
}
