// /v1/tenants/:slug/events: a tenant's events, in order, resumable with `next` (the change
// feed's cursors), readable with the admin token or an events token of the tenant; and
// /v1/tenants/:slug/events-tokens…: those read-only tokens (`roster events-token …`).
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  ADMIN_PATHS,
  createEventsToken,
  eventJson,
  getTenantBySlug,
  listEventsTokens,
  readEventsPage,
  revokeEventsToken,
  type Clock,
  type Db,
} from '@roster/core';
import { requireEventsReader } from '../auth.js';
import { route } from '../validation.js';
import { tenantTokenRoutes } from './tenant-tokens.js';

/** The longest `types` list the events API reads (a few dozen patterns fit). */
export const MAX_EVENT_TYPES_PARAMETER_LENGTH = 1_000;
/** The longest `after` cursor (they are about 70 characters). */
const MAX_CURSOR_LENGTH = 200;

// Shapes only; core checks the cursor, the limit's range and each type, and names the parameter.
const eventsQuery = z.strictObject({
  after: z.string().max(MAX_CURSOR_LENGTH).optional(),
  limit: z.coerce.number().optional(),
  types: z.string().max(MAX_EVENT_TYPES_PARAMETER_LENGTH).optional(),
});

/**
 * The events API, with its own guard (the admin token or an events token of the tenant): mounted
 * before the admin API's token check, and answering nothing else. `jsonBody` is the admin API's
 * body handling, so a body sent here is refused as on every other route.
 */
export function eventsRouter(
  db: Db,
  clock: Clock,
  adminToken: string | undefined,
  jsonBody: readonly RequestHandler[],
): Router {
  const router = Router();
  router.get(ADMIN_PATHS.events, requireEventsReader(adminToken, db, clock), ...jsonBody);
  route(router, 'get', ADMIN_PATHS.events, { query: eventsQuery }, async (req, res, { query }) => {
    const tenant = await getTenantBySlug(db, req.params.slug);
    const page = await readEventsPage(db, tenant.id, {
      after: query.after,
      limit: query.limit,
      types: query.types?.split(','),
    });
    res.json({ events: page.events.map(eventJson), next: page.next });
  });
  return router;
}

/** `roster events-token create|list|revoke`: issued, listed and revoked like SCIM tokens. */
export function eventsTokensRouter(db: Db, clock: Clock): Router {
  const router = Router();
  tenantTokenRoutes(
    router,
    { collection: ADMIN_PATHS.eventsTokens, item: ADMIN_PATHS.eventsToken },
    { create: createEventsToken, list: listEventsTokens, revoke: revokeEventsToken },
    { db, clock },
  );
  return router;
}
