import express, { Router, type Express } from 'express';
import {
  tenantScimUrl,
  type Clock,
  type Logger,
  type RosterConfig,
  type RosterDatabase,
} from '@roster/core';
import { createBaseApp, finishApp, HttpError, type Lifecycle } from '@roster/http';
import { requireScimToken } from './auth/bearer-token.js';
import { renderScimError } from './errors/scim-error.js';
import { discoveryRouter } from './routes/discovery.route.js';
import { configureScimmy } from './scim-config.js';
import { limitScimRequestsPerTenant } from './rate-limit/tenant-rate-limit.js';
import { logScimRequests } from './request-log/request-log.middleware.js';

export interface ScimAppDeps {
  readonly database: RosterDatabase;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** Public base URL of this server (SCIM_BASE_URL); a tenant's endpoint is `<base>/scim/v2/<slug>`. */
  readonly baseUrl: string;
  /**
   * SCIM_LOG_RETENTION_DAYS and SCIM_RATE_LIMIT_* (main.ts passes the runtime's whole config).
   * Absent: no request log and no rate limit.
   */
  readonly config?: Pick<RosterConfig, 'scimLogRetentionDays' | 'scimRateLimit'>;
}

/** Maximum SCIM request body (advertised as bulk.maxPayloadSize once /Bulk exists). */
export const MAX_SCIM_PAYLOAD_BYTES = 1_048_576;

const TENANT_ROUTE = '/scim/v2/:tenant';

/** Builds the SCIM app; never listens (main.ts does). */
export function createScimApp(deps: ScimAppDeps): Express {
  configureScimmy();
  const app = createBaseApp({
    name: 'scim',
    logger: deps.logger,
    database: deps.database,
    lifecycle: deps.lifecycle,
  });
  const tenantRouter = Router({ mergeParams: true });
  tenantRouter.use((_req, res, next) => {
    res.locals.routePattern = TENANT_ROUTE;
    next();
  });
  // ---- request log and rate limit (issue 6): log first, so refusals (401, 429) are kept ----
  if (deps.config && deps.config.scimLogRetentionDays > 0)
    tenantRouter.use(logScimRequests(deps.database.db, deps.clock));
  // Authenticate before reading a body, so an anonymous caller cannot make us parse 1 MiB.
  tenantRouter.use(requireScimToken(deps.database.db, deps.clock));
  // After authentication (anonymous traffic cannot drain a tenant's allowance), before the body.
  if (deps.config?.scimRateLimit)
    tenantRouter.use(limitScimRequestsPerTenant(deps.config.scimRateLimit));
  // ---- end of request log and rate limit ----
  // RFC 7644 §3.1: application/scim+json; IdPs also send application/json.
  tenantRouter.use(
    express.json({
      type: ['application/scim+json', 'application/json'],
      limit: MAX_SCIM_PAYLOAD_BYTES,
    }),
  );
  tenantRouter.use((req, res, next) => {
    res.locals.scimBaseUrl = tenantScimUrl(deps.baseUrl, String(req.params.tenant));
    next();
  });
  tenantRouter.use(discoveryRouter());
  tenantRouter.use((req) => {
    throw new HttpError(404, 'NotFound', `no SCIM endpoint ${req.method} ${req.path}`);
  });
  app.use(TENANT_ROUTE, tenantRouter);
  return finishApp(app, renderScimError);
}
