import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { findTenantBySlug, recordScimRequest, type Clock, type Db } from '@roster/core';

/**
 * Refused requests (401) are kept for the tenant named in the URL, but at most this many per
 * tenant and minute in each process: anyone who knows a slug can send them, and they must not
 * be able to fill the log.
 */
export const MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE = 60;

const JSON_CONTENT = /\bjson\b/i;

/** The body a handler answered with, captured from res.json / res.send. */
function captureResponseBody(res: Response): () => unknown {
  let captured: unknown;
  let seen = false;
  const json = res.json.bind(res);
  const send = res.send.bind(res);
  res.json = (body?: unknown) => {
    if (!seen) {
      captured = body;
      seen = true;
    }
    return json(body);
  };
  res.send = (body?: unknown) => {
    if (!seen) {
      captured = body;
      seen = true;
    }
    return send(body);
  };
  return () => {
    // res.send of a string or Buffer: keep it as JSON when it is JSON, else as text.
    if (typeof captured === 'string' || Buffer.isBuffer(captured)) {
      const text = captured.toString();
      if (JSON_CONTENT.test(String(res.getHeader('content-type') ?? ''))) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      }
      return text === '' ? undefined : text;
    }
    return captured;
  };
}

/**
 * Keeps every SCIM request that reached a tenant, with its answer, in the tenant's request log
 * (core's `recordScimRequest` redacts passwords and tokens and caps bodies). Mount it first on
 * the tenant router, before authentication, so refused requests are kept too.
 *
 * The entry is written once the response has been sent, so logging never delays or fails a
 * request: a failed write is a warn line (`scim.request_log.write_failed`).
 */
export function logScimRequests(db: Db, clock: Clock): RequestHandler {
  const unauthenticated = new RateLimiterMemory({
    keyPrefix: 'scim-log-401',
    points: MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE,
    duration: 60,
  });

  const tenantIdFor = async (req: Request, slug: string): Promise<string | undefined> => {
    if (req.scimTenant) return req.scimTenant.id;
    // Keyed by tenant id, not by the slug in the URL: made-up slugs must not grow the limiter.
    const tenant = await findTenantBySlug(db, slug);
    if (!tenant) return undefined;
    try {
      await unauthenticated.consume(tenant.id);
    } catch {
      return undefined; // over the allowance for refused requests this minute
    }
    return tenant.id;
  };

  const write = async (
    req: Request,
    slug: string,
    entry: Parameters<typeof recordScimRequest>[2],
  ) => {
    const tenantId = await tenantIdFor(req, slug);
    if (tenantId) await recordScimRequest(db, tenantId, entry);
  };

  return (req, res, next) => {
    // Read now: express restores req.params as the request leaves each router.
    const slug = String(req.params.tenant);
    const occurredAt = clock.now();
    const started = performance.now();
    const responseBody = captureResponseBody(res);
    res.on('finish', () => {
      const entry = {
        occurredAt,
        requestId: String(req.id),
        method: req.method,
        path: req.originalUrl,
        status: res.statusCode,
        durationMs: performance.now() - started,
        tokenId: req.scimTokenId ?? null,
        userAgent: req.get('user-agent') ?? null,
        // express.json leaves req.body undefined when it did not parse one (401s, bad JSON).
        requestBody: req.body as unknown,
        responseBody: responseBody(),
      };
      write(req, slug, entry).catch((error: unknown) => {
        req.log.warn({ err: error }, 'scim.request_log.write_failed');
      });
    });
    next();
  };
}
