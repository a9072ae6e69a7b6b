import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  createScimToken,
  createTenant,
  getTenantBySlug,
  listAuditEvents,
  listScimTokens,
  listTenants,
  listUsers,
  MAX_USER_PAGE_SIZE,
  revokeScimToken,
  updateTenantSettings,
  type ChangeContext,
  type Clock,
  type Db,
} from '@roster/core';
import {
  presentAuditEvent,
  presentTenant,
  presentToken,
  presentUser,
  type Urls,
} from '../presenters.js';
import { parseInput } from '../validation.js';

const days = (max: number) => z.number().int().min(0).max(max);
const settingsSchema = z.strictObject({
  gracePeriodDays: days(3650).optional(),
  cleanupAfterDays: z.union([days(3650).min(1), z.null()]).optional(),
  allowedOrigins: z.array(z.string().max(2048)).max(50).optional(),
});
const createTenantSchema = settingsSchema.extend({ slug: z.string().max(63) });
const createTokenSchema = z.strictObject({
  expiresInDays: z.number().int().min(1).max(3650).optional(),
  description: z.string().max(200).optional(),
});
const usersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_USER_PAGE_SIZE).optional(),
  after: z.string().max(200).optional(),
});
const auditQuerySchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional(),
  user: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** Who is acting: an operator, named by the CLI's X-Roster-Operator header when it sends one. */
function operatorContext(req: Request): ChangeContext {
  const name = req.get('x-roster-operator');
  const id = name && /^[\w.@-]{1,64}$/.test(name) ? name : 'admin-api';
  return { actor: { type: 'operator', id }, requestId: req.id };
}

const without = <T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;

/** /v1/tenants…: tenants, their SCIM tokens, users and audit trail. Each handler is one core call. */
export function tenantsRouter(db: Db, clock: Clock, urls: Urls): Router {
  const router = Router();

  router.get('/tenants', async (_req, res) => {
    res.json({ tenants: (await listTenants(db)).map((t) => presentTenant(t, urls)) });
  });

  router.post('/tenants', async (req, res) => {
    const { slug, ...settings } = parseInput(createTenantSchema, req.body, 'body');
    const tenant = await createTenant(db, slug, operatorContext(req), without(settings));
    res.status(201).location(`/v1/tenants/${tenant.slug}`).json(presentTenant(tenant, urls));
  });

  router.get('/tenants/:slug', async (req, res) => {
    res.json(presentTenant(await getTenantBySlug(db, req.params.slug), urls));
  });

  router.patch('/tenants/:slug', async (req, res) => {
    const change = parseInput(settingsSchema, req.body, 'body');
    const tenant = await updateTenantSettings(
      db,
      req.params.slug,
      without(change),
      operatorContext(req),
    );
    res.json(presentTenant(tenant, urls));
  });

  router.post('/tenants/:slug/scim-tokens', async (req, res) => {
    const body = parseInput(createTokenSchema, req.body, 'body');
    const expiresAt = body.expiresInDays
      ? new Date(clock.now().getTime() + body.expiresInDays * 86_400_000)
      : null;
    const issued = await createScimToken(
      db,
      req.params.slug,
      { expiresAt, ...(body.description ? { description: body.description } : {}) },
      operatorContext(req),
      clock,
    );
    res.status(201).json({
      ...presentToken(issued, clock.now()),
      token: issued.token,
      scimBaseUrl: urls.scimBaseUrl(req.params.slug),
    });
  });

  router.get('/tenants/:slug/scim-tokens', async (req, res) => {
    const now = clock.now();
    res.json({
      tokens: (await listScimTokens(db, req.params.slug)).map((t) => presentToken(t, now)),
    });
  });

  router.delete('/tenants/:slug/scim-tokens/:id', async (req, res) => {
    const token = await revokeScimToken(
      db,
      req.params.slug,
      req.params.id,
      operatorContext(req),
      clock,
    );
    res.json(presentToken(token, clock.now()));
  });

  router.get('/tenants/:slug/users', async (req, res) => {
    const query = parseInput(usersQuerySchema, req.query, 'query');
    const tenant = await getTenantBySlug(db, req.params.slug);
    const page = await listUsers(db, tenant.id, without(query));
    res.json({ users: page.users.map(presentUser), ...(page.next ? { next: page.next } : {}) });
  });

  router.get('/tenants/:slug/audit', async (req, res) => {
    const query = parseInput(auditQuerySchema, req.query, 'query');
    const tenant = await getTenantBySlug(db, req.params.slug);
    const events = await listAuditEvents(db, tenant.id, {
      ...(query.since ? { since: new Date(query.since) } : {}),
      ...(query.user ? { targetId: query.user } : {}),
      ...(query.limit ? { limit: query.limit } : {}),
    });
    res.json({ events: events.map(presentAuditEvent) });
  });

  return router;
}
