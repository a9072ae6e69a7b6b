import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '@roster/http';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * `Authorization: Bearer <ROSTER_ADMIN_TOKEN>`, compared in constant time. With no token
 * configured the admin API refuses everything rather than being open.
 */
export function requireAdminToken(configured: string | undefined): RequestHandler {
  const expected = configured === undefined ? undefined : digest(configured);
  return (req, _res, next) => {
    if (!expected) {
      throw new HttpError(
        401,
        'AdminDisabled',
        'the admin API is disabled: set ROSTER_ADMIN_TOKEN on the server',
      );
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!presented)
      throw new HttpError(
        401,
        'Unauthorized',
        'missing admin token: send Authorization: Bearer <ROSTER_ADMIN_TOKEN>',
      );
    if (!timingSafeEqual(digest(presented), expected))
      throw new HttpError(401, 'Unauthorized', 'the admin token is not valid');
    next();
  };
}
