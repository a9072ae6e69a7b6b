import express, { type Express } from 'express';
import {
  ADMIN_API_ROOT,
  outboundPolicyFrom,
  tenantScimUrl,
  type Clock,
  type Logger,
  type OutboundPolicy,
  type RosterDatabase,
} from '@roster/core';
import { createBaseApp, finishApp, refuseUnstorableJson, type Lifecycle } from '@roster/http';
import { requireAdminToken } from './auth.js';
import { appsRouter } from './routes/apps.route.js';
import { eventsRouter, eventsTokensRouter } from './routes/events.route.js';
import { webhooksRouter } from './routes/webhooks.route.js';
import { scimClientsRouter } from './routes/scim-clients.route.js';
import { scimLogRouter } from './routes/scim-log.route.js';
import { idpsRouter } from './routes/idps.route.js';
import { tenantsRouter } from './routes/tenants.route.js';
import { requireJsonBody } from './validation.js';

export interface AdminAppDeps {
  readonly database: RosterDatabase;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** ROSTER_ADMIN_TOKEN; without it every admin route answers 401. */
  readonly adminToken: string | undefined;
  /** Public base URLs, to tell operators where each tenant's endpoints are. */
  readonly scimBaseUrl: string;
  readonly ssoBaseUrl: string;
  /**
   * Where IdP metadata URLs and webhooks may point (ROSTER_OUTBOUND_ALLOW_HOSTS); unset: public
   * addresses only.
   */
  readonly outboundPolicy?: OutboundPolicy;
}

/** Largest admin request body (IdP metadata, later, is the biggest thing sent here). */
export const MAX_ADMIN_PAYLOAD_BYTES = 1_048_576;

/** Builds the admin JSON API; never listens (main.ts does). */
export function createAdminApp(deps: AdminAppDeps): Express {
  const app = createBaseApp({
    name: 'admin',
    logger: deps.logger,
    database: deps.database,
    lifecycle: deps.lifecycle,
  });
  const outboundPolicy = deps.outboundPolicy ?? outboundPolicyFrom(undefined);
  const urls = {
    scimBaseUrl: (slug: string) => tenantScimUrl(deps.scimBaseUrl, slug),
    ssoBaseUrl: deps.ssoBaseUrl,
  };
  // The events API takes an events token as well as the admin token, so it is answered before
  // the admin token check; an events token reaches nothing below it.
  const jsonBody = [
    requireJsonBody,
    express.json({ limit: MAX_ADMIN_PAYLOAD_BYTES, strict: true }),
    refuseUnstorableJson,
  ];
  app.use(ADMIN_API_ROOT, eventsRouter(deps.database.db, deps.clock, deps.adminToken, jsonBody));
  app.use(
    ADMIN_API_ROOT,
    requireAdminToken(deps.adminToken),
    ...jsonBody,
    tenantsRouter(deps.database.db, deps.clock, urls),
    scimLogRouter(deps.database.db),
    idpsRouter(deps.database.db, deps.clock, deps.ssoBaseUrl, outboundPolicy),
    appsRouter(deps.database.db, deps.clock, deps.ssoBaseUrl),
    scimClientsRouter(deps.database.db, deps.clock, deps),
    eventsTokensRouter(deps.database.db, deps.clock),
    webhooksRouter(deps.database.db, deps.clock, outboundPolicy),
  );
  return finishApp(app);
}
