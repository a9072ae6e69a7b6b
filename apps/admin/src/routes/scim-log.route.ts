import { Router } from 'express';
import { z } from 'zod';
import {
  getTenantBySlug,
  listScimRequests,
  MAX_SCIM_LOG_ENTRIES,
  parseTimestamp,
  type Db,
  ADMIN_PATHS,
} from '@roster/core';
import { presentScimRequest } from '../presenters.js';
import { route } from '../validation.js';

const scimLogQuerySchema = z.strictObject({
  since: z.string().optional(), // read strictly by core's parseTimestamp
  status: z
    .string()
    .regex(/^([1-5]xx|[1-5]\d\d)$/i, 'a status class like 4xx or a status like 404')
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_SCIM_LOG_ENTRIES).optional(),
});

/**
 * GET /v1/tenants/:slug/scim-log?since=&status=&limit=: the tenant's newest logged SCIM
 * requests (bodies redacted), oldest first (`roster scim-log`).
 */
export function scimLogRouter(db: Db): Router {
  const router = Router();
  route(
    router,
    'get',
    ADMIN_PATHS.scimLog,
    { query: scimLogQuerySchema },
    async (req, res, { query }) => {
      const tenant = await getTenantBySlug(db, req.params.slug);
      const entries = await listScimRequests(db, tenant.id, {
        ...(query.since ? { since: parseTimestamp(query.since, 'since') } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      });
      res.json({ entries: entries.map(presentScimRequest) });
    },
  );
  return router;
}
