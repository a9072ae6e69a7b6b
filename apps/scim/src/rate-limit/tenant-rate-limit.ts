import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { ScimRateLimit } from '../config.js';
import { sendScimError } from '../errors/scim-error.js';

/**
 * RFC 6585 §4 / RFC 7644 §3.12: a tenant over its request rate gets 429 with `Retry-After`
 * (whole seconds, at least 1) and a SCIM error body, without scimType (§3.12 defines none).
 * Mount it after authentication, so only a tenant's own authenticated requests count against
 * it and anonymous traffic cannot drain its allowance.
 *
 * rate-limiter-flexible's in-memory limiter, one key per tenant: at most `burst` requests per
 * window of `burst / perSecond` seconds, i.e. `perSecond` sustained and `burst` at once. It counts
 * in this process only: N instances allow N times the limit (README "Limits").
 */
export function limitScimRequestsPerTenant(limit: ScimRateLimit): RequestHandler {
  const limiter = new RateLimiterMemory({
    keyPrefix: 'scim-tenant',
    points: limit.burst,
    duration: limit.burst / limit.perSecond,
  });
  return async (req, res, next) => {
    const tenantId = req.scimTenant?.id;
    if (!tenantId) {
      next();
      return;
    }
    try {
      await limiter.consume(tenantId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(retryAfterSeconds));
      sendScimError(
        req,
        res,
        429,
        `too many requests for this tenant; retry after ${retryAfterSeconds} s`,
      );
      return;
    }
    next();
  };
}
