// /v1/tenants/:slug/webhooks…: a tenant's webhook endpoints (`roster webhook …`). Each handler is
// one core call; answers to add and rotate-secret carry the signing secret, the only time it is
// ever shown.
import { Router } from 'express';
import { z } from 'zod';
import {
  ADMIN_API_ROOT,
  ADMIN_PATHS,
  createWebhook,
  DEFAULT_WEBHOOK_ATTEMPTS_LISTED,
  disableWebhook,
  enableWebhook,
  fillPath,
  getTenantBySlug,
  getWebhook,
  listWebhookAttempts,
  listWebhooks,
  MAX_WEBHOOK_ATTEMPTS_LISTED,
  MAX_WEBHOOK_EVENT_PATTERN_LENGTH,
  MAX_WEBHOOK_EVENT_PATTERNS,
  MAX_WEBHOOK_SECRET_OVERLAP_MS,
  MAX_WEBHOOK_URL_LENGTH,
  parseWebhookReplayStart,
  removeWebhook,
  replayWebhook,
  rotateWebhookSecret,
  sendWebhookPing,
  updateWebhook,
  WEBHOOK_FORMATS,
  type Clock,
  type Db,
  type OutboundPolicy,
} from '@roster/core';
import { HttpError } from '@roster/http';
import { operatorContext } from '../operator-context.js';
import { presentWebhook, presentWebhookAttempt } from '../presenters.js';
import { route, without } from '../validation.js';

// Shapes and sizes only; core checks the URL and each event type, and names the field.
const webhookFields = {
  url: z.string().max(MAX_WEBHOOK_URL_LENGTH),
  events: z.array(z.string().max(MAX_WEBHOOK_EVENT_PATTERN_LENGTH)).max(MAX_WEBHOOK_EVENT_PATTERNS),
  format: z.enum(WEBHOOK_FORMATS),
};
const addSchema = z.strictObject({
  url: webhookFields.url,
  events: webhookFields.events.optional(),
  format: webhookFields.format.optional(),
});
const updateSchema = z.strictObject({
  url: webhookFields.url.optional(),
  events: webhookFields.events.optional(),
  format: webhookFields.format.optional(),
});
const MAX_OVERLAP_MINUTES = MAX_WEBHOOK_SECRET_OVERLAP_MS / 60_000;
const rotateSchema = z.strictObject({
  /** How long the old secret keeps signing beside the new one; default 24 h, 0 ends it now. */
  overlapMinutes: z.number().int().min(0).max(MAX_OVERLAP_MINUTES).optional(),
});
const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_WEBHOOK_ATTEMPTS_LISTED).optional(),
  before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});
const replaySchema = z.strictObject({
  since: z.string().max(200),
});

export function webhooksRouter(db: Db, clock: Clock, policy: OutboundPolicy): Router {
  const router = Router();
  const tenantOf = (slug: string) => getTenantBySlug(db, slug);

  route(router, 'post', ADMIN_PATHS.webhooks, { body: addSchema }, async (req, res, { body }) => {
    const tenant = await tenantOf(req.params.slug);
    const { webhook, secret } = await createWebhook(
      db,
      tenant.id,
      without(body),
      operatorContext(req),
      { clock, policy },
    );
    const location = fillPath(ADMIN_PATHS.webhook, { slug: tenant.slug, id: webhook.id });
    res
      .status(201)
      .location(`${ADMIN_API_ROOT}${location}`)
      .json({ ...presentWebhook(webhook), secret });
  });

  route(router, 'get', ADMIN_PATHS.webhooks, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    res.json({ webhooks: (await listWebhooks(db, tenant.id)).map(presentWebhook) });
  });

  route(router, 'get', ADMIN_PATHS.webhook, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    res.json(presentWebhook(await getWebhook(db, tenant.id, req.params.id)));
  });

  route(
    router,
    'patch',
    ADMIN_PATHS.webhook,
    { body: updateSchema },
    async (req, res, { body }) => {
      const change = without(body);
      if (Object.keys(change).length === 0)
        throw new HttpError(400, 'Invalid', 'nothing to change: give url, events or format');
      const tenant = await tenantOf(req.params.slug);
      const webhook = await updateWebhook(
        db,
        tenant.id,
        req.params.id,
        change,
        operatorContext(req),
        {
          clock,
          policy,
        },
      );
      res.json(presentWebhook(webhook));
    },
  );

  route(router, 'delete', ADMIN_PATHS.webhook, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    const webhook = await getWebhook(db, tenant.id, req.params.id);
    await removeWebhook(db, tenant.id, webhook.id, operatorContext(req));
    res.json({ removed: presentWebhook(webhook) });
  });

  route(
    router,
    'post',
    ADMIN_PATHS.webhookSecretRotation,
    { body: rotateSchema },
    async (req, res, { body }) => {
      const tenant = await tenantOf(req.params.slug);
      const { webhook, secret } = await rotateWebhookSecret(
        db,
        tenant.id,
        req.params.id,
        operatorContext(req),
        {
          clock,
          ...(body.overlapMinutes !== undefined ? { overlapMs: body.overlapMinutes * 60_000 } : {}),
        },
      );
      res.json({ ...presentWebhook(webhook), secret });
    },
  );

  route(router, 'post', ADMIN_PATHS.webhookDisable, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    res.json(
      presentWebhook(
        await disableWebhook(db, tenant.id, req.params.id, operatorContext(req), { clock }),
      ),
    );
  });

  route(router, 'post', ADMIN_PATHS.webhookEnable, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    res.json(
      presentWebhook(
        await enableWebhook(db, tenant.id, req.params.id, operatorContext(req), { clock }),
      ),
    );
  });

  // A signed ping, sent now and logged; the answer is the attempt (the receiver's status is in
  // it), so a receiver that refuses the ping is still a 200 here.
  route(router, 'post', ADMIN_PATHS.webhookTest, {}, async (req, res) => {
    const tenant = await tenantOf(req.params.slug);
    const attempt = await sendWebhookPing(db, tenant.id, req.params.id, { policy, clock });
    res.json(presentWebhookAttempt(attempt));
  });

  route(
    router,
    'get',
    ADMIN_PATHS.webhookDeliveries,
    { query: deliveriesQuery },
    async (req, res, { query }) => {
      const tenant = await tenantOf(req.params.slug);
      const attempts = await listWebhookAttempts(db, tenant.id, req.params.id, {
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.before !== undefined ? { beforeId: query.before } : {}),
      });
      const last = attempts.at(-1);
      res.json({
        deliveries: attempts.map(presentWebhookAttempt),
        // The next (older) page, when this one was full.
        ...(last && attempts.length === (query.limit ?? DEFAULT_WEBHOOK_ATTEMPTS_LISTED)
          ? { next: String(last.id) }
          : {}),
      });
    },
  );

  route(
    router,
    'post',
    ADMIN_PATHS.webhookReplay,
    { body: replaySchema },
    async (req, res, { body }) => {
      const tenant = await tenantOf(req.params.slug);
      const webhook = await replayWebhook(
        db,
        tenant.id,
        req.params.id,
        parseWebhookReplayStart(body.since),
        operatorContext(req),
        { clock },
      );
      res.json(presentWebhook(webhook));
    },
  );

  return router;
}
