import express, {
  Router,
  type Express,
  type NextFunction,
  type Request,
  type Response,
} from 'express';
import {
  SCIM_PATHS,
  scimAccessTokenVerifier,
  tenantScimUrl,
  type Clock,
  type Logger,
  type RosterDatabase,
} from '@roster/core';
import {
  createBaseApp,
  finishApp,
  HttpError,
  refuseUnstorableJson,
  type Lifecycle,
} from '@roster/http';
import { requireScimToken } from './auth/bearer-token.js';
import type { ScimConfig } from './config.js';
import { renderScimError, ScimError, sendScimError, toScimError } from './errors/scim-error.js';
import { MAX_PAGE_SIZE } from './list/list-request.js';
import { bulkRouter } from './routes/bulk.route.js';
import { discoveryRouter } from './routes/discovery.route.js';
import { groupOperations } from './routes/groups.route.js';
import { rootSearchRouter } from './routes/search.route.js';
import { resourceRouter } from './routes/resource-operations.js';
import { userOperations } from './routes/users.route.js';
import { configureScimmy, MAX_SCIM_PAYLOAD_BYTES } from './scim-config.js';
import { limitScimRequestsPerTenant } from './rate-limit/tenant-rate-limit.js';
import { logScimRequests } from './request-log/request-log.middleware.js';

export { MAX_SCIM_PAYLOAD_BYTES };

export interface ScimAppDeps {
  readonly database: RosterDatabase;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** Public base URL of this server (SCIM_BASE_URL); a tenant's endpoint is `<base>/scim/v2/<slug>`. */
  readonly baseUrl: string;
  /**
   * Public base URL of the SSO app (SSO_BASE_URL): tenants' token issuers. Given, the SCIM
   * endpoint also takes the access tokens SCIM clients get there (README "SCIM with OAuth").
   */
  readonly ssoBaseUrl?: string | undefined;
  /**
   * SCIM_LOG_RETENTION_DAYS and SCIM_RATE_LIMIT_* (main.ts passes the runtime's whole config).
   * Absent: no request log and no rate limit.
   */
  readonly config?: Pick<ScimConfig, 'scimLogRetentionDays' | 'scimRateLimit'>;
}

const JSON_TYPES = ['application/scim+json', 'application/json'];

/** RFC 7644 §3.1: a body in any other media type is 415, in the SCIM error format. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['content-length'] !== '0' &&
    (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined);
  if (hasBody && !req.is(JSON_TYPES)) {
    sendScimError(
      req,
      res,
      415,
      `request bodies must be application/scim+json or application/json, not ${req.get('Content-Type') ?? 'untyped'}`,
    );
    return;
  }
  next();
}

/** SCIM failures raised by routes (ours and scimmy's) keep their status and scimType. */
function scimErrors(error: unknown, req: Request, res: Response, next: NextFunction): void {
  const translated = toScimError(error);
  if (translated instanceof ScimError) {
    sendScimError(req, res, translated.status, translated.message, translated.scimType);
    return;
  }
  next(error);
}

/** Builds the SCIM app; never listens (main.ts does). */
export function createScimApp(deps: ScimAppDeps): Express {
  configureScimmy({ maxResults: MAX_PAGE_SIZE });
  const { db } = deps.database;
  const app = createBaseApp({
    name: 'scim',
    logger: deps.logger,
    database: deps.database,
    lifecycle: deps.lifecycle,
  });
  const tenantRouter = Router({ mergeParams: true });
  tenantRouter.use((_req, res, next) => {
    res.locals.routePattern = SCIM_PATHS.tenantBase;
    next();
  });
  // ---- request log and rate limit: log first, so refusals (401, 429) are kept ----
  if (deps.config && deps.config.scimLogRetentionDays > 0)
    tenantRouter.use(logScimRequests(deps.database.db, deps.clock));
  // Authenticate before reading a body, so an anonymous caller cannot make us parse 1 MiB.
  const verifyAccessToken =
    deps.ssoBaseUrl === undefined
      ? undefined
      : scimAccessTokenVerifier(
          db,
          { ssoBaseUrl: deps.ssoBaseUrl, scimBaseUrl: deps.baseUrl },
          deps.clock,
        );
  tenantRouter.use(requireScimToken(db, deps.clock, verifyAccessToken));
  // After authentication (anonymous traffic cannot drain a tenant's allowance), before the body.
  if (deps.config?.scimRateLimit)
    tenantRouter.use(limitScimRequestsPerTenant(deps.config.scimRateLimit));
  // ---- end of request log and rate limit ----
  tenantRouter.use(requireJsonBody);
  // RFC 7644 §3.1: application/scim+json; IdPs also send application/json.
  tenantRouter.use(express.json({ type: JSON_TYPES, limit: MAX_SCIM_PAYLOAD_BYTES }));
  // Too deep, or text PostgreSQL cannot store anywhere in it: 400 before anything walks the body.
  tenantRouter.use(refuseUnstorableJson);
  tenantRouter.use((req, res, next) => {
    res.locals.scimBaseUrl = tenantScimUrl(deps.baseUrl, String(req.params.tenant));
    next();
  });
  tenantRouter.use(discoveryRouter());
  const users = userOperations(db, deps.clock);
  const groups = groupOperations(db, deps.clock);
  tenantRouter.use('/Users', resourceRouter(users));
  tenantRouter.use('/Groups', resourceRouter(groups));
  tenantRouter.use('/Bulk', bulkRouter(users, groups));
  tenantRouter.use(rootSearchRouter(users, groups));
  tenantRouter.use((req) => {
    throw new HttpError(404, 'NotFound', `no SCIM endpoint ${req.method} ${req.path}`);
  });
  tenantRouter.use(scimErrors);
  app.use(SCIM_PATHS.tenantBase, tenantRouter);
  return finishApp(app, renderScimError);
}
