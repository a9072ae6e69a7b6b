import type { RequestHandler } from 'express';
import {
  authenticateScimToken,
  isJwtShaped,
  type Clock,
  type Db,
  type ScimAccessTokenVerifier,
  type Tenant,
} from '@roster/core';
import { sendScimError } from '../errors/scim-error.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the bearer-token middleware: the tenant the token belongs to. */
    scimTenant?: Tenant;
    scimTokenId?: string;
    /** Set instead of `scimTokenId` for an access token: the SCIM client it was issued to. */
    scimClientId?: string;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const REFUSED = 'a valid bearer token of this tenant is required';
const EXPIRED = 'the access token has expired: get a new one from the token endpoint';

/**
 * RFC 7644 §2 / RFC 6750: every SCIM request carries a bearer token of the tenant named in the
 * URL: a SCIM token, or (with `verifyAccessToken`) an access token a SCIM client got from the
 * tenant's token endpoint. Missing, malformed, unknown, revoked, expired or another tenant's:
 * 401 with WWW-Authenticate. The reason goes to the log, never to the caller, except that an
 * access token has expired (RFC 6750 §3.1: the client should get a new one).
 */
export function requireScimToken(
  db: Db,
  clock: Clock,
  verifyAccessToken?: ScimAccessTokenVerifier,
): RequestHandler {
  return async (req, res, next) => {
    const tenantSlug = String(req.params.tenant);
    const presented = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const result = !presented
      ? ({ ok: false, reason: 'missing' } as const)
      : verifyAccessToken && isJwtShaped(presented)
        ? await verifyAccessToken(tenantSlug, presented)
        : await authenticateScimToken(db, tenantSlug, presented, clock);
    if (!result.ok) {
      req.log.warn({ tenant: tenantSlug, reason: result.reason }, 'scim.auth.refused');
      const expired =
        result.reason === 'expired' && presented !== undefined && isJwtShaped(presented);
      res.setHeader(
        'WWW-Authenticate',
        `Bearer realm="roster-scim", error="invalid_token"${expired ? `, error_description="${EXPIRED}"` : ''}`,
      );
      sendScimError(req, res, 401, expired ? EXPIRED : REFUSED);
      return;
    }
    req.scimTenant = result.tenant;
    if ('clientId' in result) req.scimClientId = result.clientId;
    else req.scimTokenId = result.tokenId;
    next();
  };
}
