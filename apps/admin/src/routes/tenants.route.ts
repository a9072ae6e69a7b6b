import { Router } from 'express';
import { z } from 'zod';
import {
  createScimToken,
  createTenant,
  deactivateDormantUsers,
  explainSignIn,
  findSamlIdp,
  purgeExpiredUsers,
  getTenantBySlug,
  listAuditEvents,
  listScimTokens,
  listTenants,
  parseTimestamp,
  listUsers,
  MAX_USER_PAGE_SIZE,
  revokeScimToken,
  updateTenantSettings,
  type Clock,
  type Db,
  ADMIN_PATHS,
  ADMIN_API_ROOT,
  fillPath,
} from '@roster/core';
import { presentAuditEvent, presentTenant, presentUser, type Urls } from '../presenters.js';
import { tenantTokenRoutes } from './tenant-tokens.js';
import { operatorContext } from '../operator-context.js';
import { route, without } from '../validation.js';
import { HttpError } from '@roster/http';

const days = (max: number) => z.number().int().min(0).max(max);
const settingsSchema = z.strictObject({
  gracePeriodDays: days(3650).optional(),
  cleanupAfterDays: z.union([days(3650).min(1), z.null()]).optional(),
  allowedOrigins: z.array(z.string().max(2048)).max(50).optional(),
});
const createTenantSchema = settingsSchema.extend({ slug: z.string().max(63) });
const usersQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_USER_PAGE_SIZE).optional(),
  after: z.string().max(200).optional(),
});
const auditQuerySchema = z.strictObject({
  since: z.string().optional(), // read strictly by core's parseTimestamp
  user: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

const purgeSchema = z.strictObject({
  tenant: z.string().max(63).optional(),
  // A purge deletes people for good: it runs only when asked to in so many words.
  dryRun: z.boolean({
    error: 'required: true to count what would be purged, false to purge',
  }),
  maxUsers: z.number().int().min(1).max(100_000).optional(),
});
const explainSchema = z.strictObject({
  idp: z.string().min(1).max(200),
  nameId: z.string().min(1).max(1024),
  nameIdFormat: z.string().max(200).optional(),
  attributes: z
    .strictObject({
      userName: z.string().max(1024).optional(),
      email: z.string().max(1024).optional(),
      displayName: z.string().max(1024).optional(),
      givenName: z.string().max(1024).optional(),
      familyName: z.string().max(1024).optional(),
    })
    .optional(),
});

/** /v1/tenants…: tenants, their SCIM tokens, users and audit trail. Each handler is one core call. */
export function tenantsRouter(db: Db, clock: Clock, urls: Urls): Router {
  const router = Router();

  route(router, 'get', ADMIN_PATHS.tenants, {}, async (_req, res) => {
    res.json({ tenants: (await listTenants(db)).map((t) => presentTenant(t, urls)) });
  });

  route(
    router,
    'post',
    ADMIN_PATHS.tenants,
    { body: createTenantSchema },
    async (req, res, { body: { slug, ...settings } }) => {
      const tenant = await createTenant(db, slug, operatorContext(req), without(settings));
      const location = `${ADMIN_API_ROOT}${fillPath(ADMIN_PATHS.tenant, { slug: tenant.slug })}`;
      res.status(201).location(location).json(presentTenant(tenant, urls));
    },
  );

  route(router, 'get', ADMIN_PATHS.tenant, {}, async (req, res) => {
    res.json(presentTenant(await getTenantBySlug(db, req.params.slug), urls));
  });

  route(
    router,
    'patch',
    ADMIN_PATHS.tenant,
    { body: settingsSchema },
    async (req, res, { body: change }) => {
      const tenant = await updateTenantSettings(
        db,
        req.params.slug,
        without(change),
        operatorContext(req),
      );
      res.json(presentTenant(tenant, urls));
    },
  );

  tenantTokenRoutes(
    router,
    { collection: ADMIN_PATHS.scimTokens, item: ADMIN_PATHS.scimToken },
    { create: createScimToken, list: listScimTokens, revoke: revokeScimToken },
    { db, clock, issuedExtra: (slug) => ({ scimBaseUrl: urls.scimBaseUrl(slug) }) },
  );

  route(
    router,
    'get',
    ADMIN_PATHS.users,
    { query: usersQuerySchema },
    async (req, res, { query }) => {
      const tenant = await getTenantBySlug(db, req.params.slug);
      const page = await listUsers(db, tenant.id, without(query));
      res.json({ users: page.users.map(presentUser), ...(page.next ? { next: page.next } : {}) });
    },
  );

  route(
    router,
    'get',
    ADMIN_PATHS.audit,
    { query: auditQuerySchema },
    async (req, res, { query }) => {
      const tenant = await getTenantBySlug(db, req.params.slug);
      const events = await listAuditEvents(db, tenant.id, {
        ...(query.since ? { since: parseTimestamp(query.since, 'since') } : {}),
        ...(query.user ? { targetId: query.user } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
      });
      res.json({ events: events.map(presentAuditEvent) });
    },
  );

  // Cleanup then purge, on demand (`roster purge`): a batch per call with what remains, so the
  // CLI can show progress. Safe beside the schedule and other instances (SKIP LOCKED).
  route(router, 'post', ADMIN_PATHS.purge, { body: purgeSchema }, async (req, res, { body }) => {
    const tenantId = body.tenant ? (await getTenantBySlug(db, body.tenant)).id : undefined;
    const scope = tenantId ? { tenantId } : {};
    const context = operatorContext(req);
    const cleanup = body.dryRun
      ? { deactivated: 0 }
      : await deactivateDormantUsers(db, clock, { ...scope, context });
    const purge = await purgeExpiredUsers(db, clock, {
      ...scope,
      context,
      ...(body.dryRun ? { dryRun: true } : {}),
      ...(body.maxUsers ? { maxUsers: body.maxUsers } : {}),
    });
    res.json({ ...purge, deactivatedDormant: cleanup.deactivated });
  });

  // A dry run of a sign-in through the rules (`roster explain`): nothing is written.
  route(
    router,
    'post',
    ADMIN_PATHS.explain,
    { body: explainSchema },
    async (req, res, { body }) => {
      const tenant = await getTenantBySlug(db, req.params.slug);
      const idp = await findSamlIdp(db, tenant.id, body.idp);
      if (!idp)
        throw new HttpError(
          404,
          'NotFound',
          `identity provider "${body.idp}" does not exist in tenant "${tenant.slug}"`,
        );
      const { email, ...rest } = body.attributes ?? {};
      const explained = await explainSignIn(db, tenant.id, idp, {
        nameId: body.nameId,
        ...(body.nameIdFormat ? { nameIdFormat: body.nameIdFormat } : {}),
        attributes: { ...without(rest), ...(email ? { emails: [{ value: email }] } : {}) },
      });
      const d = explained.decision;
      res.json({
        idp: {
          id: explained.idp.id,
          jitPolicy: explained.idp.jitPolicy,
          matchBy: explained.idp.matchBy,
        },
        userName: explained.userName,
        transientNameId: explained.transientNameId,
        outcome: d.kind,
        ...(d.kind === 'sign_in'
          ? {
              user: presentUser(d.user),
              matchedBy: d.matchedBy,
              willLink: d.link,
              willRefresh: d.refresh,
            }
          : {}),
        ...(d.kind === 'create' ? { willLink: d.link } : {}),
        ...(d.kind === 'refuse'
          ? { reason: d.reason, detail: d.detail, ...(d.user ? { user: presentUser(d.user) } : {}) }
          : {}),
      });
    },
  );

  return router;
}
