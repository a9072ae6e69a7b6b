import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { EVENTS_TOKEN_PREFIX, identifyEventsToken, type Clock, type Db } from '@roster/core';
import { HttpError } from '@roster/http';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The token of `Authorization: Bearer <token>`, if one was sent. */
const bearerOf = (req: Request) =>
  /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];

/** Whether a presented token is ROSTER_ADMIN_TOKEN, compared in constant time. */
function adminTokenCheck(configured: string | undefined): (presented: string) => boolean {
  const expected = configured === undefined ? undefined : digest(configured);
  return (presented) => expected !== undefined && timingSafeEqual(digest(presented), expected);
}

/**
 * `Authorization: Bearer <ROSTER_ADMIN_TOKEN>`, compared in constant time. With no token
 * configured the admin API refuses everything rather than being open.
 */
export function requireAdminToken(configured: string | undefined): RequestHandler {
  const isAdminToken = adminTokenCheck(configured);
  return (req, _res, next) => {
    if (configured === undefined) {
      throw new HttpError(
        401,
        'AdminDisabled',
        'the admin API is disabled: set ROSTER_ADMIN_TOKEN on the server',
      );
    }
    const presented = bearerOf(req);
    if (!presented)
      throw new HttpError(
        401,
        'Unauthorized',
        'missing admin token: send Authorization: Bearer <ROSTER_ADMIN_TOKEN>',
      );
    if (!isAdminToken(presented))
      throw new HttpError(401, 'Unauthorized', 'the admin token is not valid');
    next();
  };
}

/**
 * The events API's guard (mounted on a path with `:slug`): the admin token, or an events token
 * of that tenant. An events token of another tenant is a 403 that reads the same whether the
 * tenant in the URL exists or not.
 */
export function requireEventsReader(
  configured: string | undefined,
  db: Db,
  clock: Clock,
): RequestHandler<{ slug: string }> {
  const isAdminToken = adminTokenCheck(configured);
  return async (req, _res, next) => {
    const presented = bearerOf(req);
    if (!presented)
      throw new HttpError(
        401,
        'Unauthorized',
        'missing token: send Authorization: Bearer <an events token of the tenant, or ROSTER_ADMIN_TOKEN>',
      );
    if (isAdminToken(presented)) return next();
    if (!presented.startsWith(EVENTS_TOKEN_PREFIX))
      throw new HttpError(401, 'Unauthorized', 'the token is not valid');
    const checked = await identifyEventsToken(db, presented, clock);
    if (!checked.ok)
      throw new HttpError(
        401,
        'Unauthorized',
        checked.reason === 'revoked' || checked.reason === 'expired'
          ? `the events token is ${checked.reason}`
          : 'the events token is not valid',
      );
    if (checked.tenant.slug !== req.params.slug)
      throw new HttpError(403, 'Forbidden', "an events token reads its own tenant's events only");
    next();
  };
}
