import type { RequestHandler } from 'express';
import { authenticateScimToken, type Clock, type Db, type Tenant } from '@roster/core';
import { sendScimError } from '../errors/scim-error.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the bearer-token middleware: the tenant the token belongs to. */
    scimTenant?: Tenant;
    scimTokenId?: string;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * RFC 7644 §2 / RFC 6750: every SCIM request carries a bearer token of the tenant named in the
 * URL. Missing, malformed, unknown, revoked, expired or another tenant's: 401 with
 * WWW-Authenticate. The reason goes to the log, never to the caller.
 */
export function requireScimToken(db: Db, clock: Clock): RequestHandler {
  return async (req, res, next) => {
    const tenantSlug = String(req.params.tenant);
    const match = BEARER.exec(req.headers.authorization ?? '');
    const result = match?.[1]
      ? await authenticateScimToken(db, tenantSlug, match[1], clock)
      : ({ ok: false, reason: 'missing' } as const);
    if (!result.ok) {
      req.log.warn({ tenant: tenantSlug, reason: result.reason }, 'scim.auth.refused');
      res.setHeader('WWW-Authenticate', 'Bearer realm="roster-scim", error="invalid_token"');
      sendScimError(req, res, 401, 'a valid bearer token of this tenant is required');
      return;
    }
    req.scimTenant = result.tenant;
    req.scimTokenId = result.tokenId;
    next();
  };
}
