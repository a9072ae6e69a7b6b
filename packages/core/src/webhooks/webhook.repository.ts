// A tenant's webhook endpoints: add, list, change, rotate the secret, disable and enable, remove,
// replay, and read the attempt log. Every query names the tenant; every change is audited.
import type { Updateable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { systemClock, type Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { WebhookEndpointTable } from '../db/database.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { conflict, invalid, notFound } from '../errors.js';
import { parseEventId } from '../events/event.js';
import { clampLimit } from '../ids.js';
import { parseTimestamp } from '../timestamp.js';
import { originOf } from '../outbound/retry.js';
import {
  checkWebhookEvents,
  checkWebhookFormat,
  checkWebhookUrl,
  isWebhookId,
  MAX_WEBHOOKS_PER_TENANT,
  newWebhookSecret,
  toWebhook,
  toWebhookAttempt,
  type IssuedWebhook,
  type Webhook,
  type WebhookAttempt,
  type WebhookChangeOptions,
  type WebhookInput,
  type WebhookRow,
} from './webhook.js';

/**
 * How long the secret before a rotation keeps signing beside the new one (default of
 * {@link rotateWebhookSecret}): receivers have this long to switch.
 */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** Longest overlap a rotation may ask for. */
export const MAX_WEBHOOK_SECRET_OVERLAP_MS = 7 * 24 * 60 * 60 * 1000;
/** Attempts one `listWebhookAttempts` call returns by default, and at most. */
export const DEFAULT_WEBHOOK_ATTEMPTS_LISTED = 100;
export const MAX_WEBHOOK_ATTEMPTS_LISTED = 1000;

const webhookNotFound = (id: unknown) =>
  notFound(`webhook "${String(id).slice(0, 100)}" does not exist in this tenant`);

/** What an audit event says about a webhook: never a secret, and of the URL only its origin. */
const auditView = (webhook: Webhook) => ({
  url: originOf(webhook.url),
  events: webhook.events,
  format: webhook.format,
  state: webhook.state,
});

/** Locks one of the tenant's webhooks for a change; `NotFound` when it has none by that id. */
async function lockWebhook(tx: Tx, tenantId: string, id: string): Promise<WebhookRow> {
  if (!isWebhookId(id)) throw webhookNotFound(id);
  const row = await tx
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw webhookNotFound(id);
  return row;
}

/**
 * Adds a webhook to a tenant. It receives the events that happen from now on (its cursor starts
 * at the tenant's latest event), signed with a fresh secret returned here only. Bad input is
 * `Invalid` naming the field, and writes nothing; more than {@link MAX_WEBHOOKS_PER_TENANT} is
 * a `Conflict`.
 *
 * @example
 * const { webhook, secret } = await createWebhook(db, tenant.id,
 *   { url: 'https://billing.example.com/roster', events: ['user.*'] }, ctx);
 */
export async function createWebhook(
  db: Db,
  tenantId: string,
  input: WebhookInput,
  context: ChangeContext,
  options: WebhookChangeOptions = {},
): Promise<IssuedWebhook> {
  if (typeof input !== 'object' || input === null)
    throw invalid('a webhook needs a url', { field: 'url' });
  const url = checkWebhookUrl(input.url, options.policy);
  const events = checkWebhookEvents(input.events);
  const format = checkWebhookFormat(input.format);
  const now = (options.clock ?? systemClock).now();
  const secret = newWebhookSecret();
  return inTransaction(db, async (tx) => {
    // The tenant row is locked (briefly: writers append to the outbox under the same lock) so
    // that two concurrent adds cannot both pass the count, and so that the cursor starts at a
    // committed seq: every event after it commits later and is delivered.
    const tenant = await tx
      .selectFrom('tenants')
      .select('outbox_seq')
      .where('id', '=', tenantId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!tenant) throw notFound('the tenant does not exist');
    const { count } = await tx
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_WEBHOOKS_PER_TENANT)
      throw conflict(`a tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`);
    const row = await tx
      .insertInto('webhook_endpoints')
      .values({
        tenant_id: tenantId,
        url,
        event_types: events,
        format,
        secret,
        delivered_seq: Number(tenant.outbox_seq),
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const webhook = toWebhook(row);
    await recordAudit(tx, tenantId, context, {
      action: 'webhook.created',
      target: { type: 'webhook', id: webhook.id },
      changes: auditView(webhook),
    });
    return { webhook, secret };
  });
}

/** The tenant's webhooks, oldest first. */
export async function listWebhooks(db: Db, tenantId: string): Promise<Webhook[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toWebhook);
}

/** One of the tenant's webhooks; `NotFound` when it has none by that id. */
export async function getWebhook(db: Db, tenantId: string, id: string): Promise<Webhook> {
  if (!isWebhookId(id)) throw webhookNotFound(id);
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw webhookNotFound(id);
  return toWebhook(row);
}

/** An audited change of one locked webhook. */
interface LockedChange {
  readonly set: Updateable<WebhookEndpointTable>;
  readonly action: string;
  readonly changes: (before: WebhookRow, after: WebhookRow) => Record<string, unknown>;
}

/** Clears the lease: a send in flight finishes but moves no cursor; the next claim resumes. */
const REVOKED_LEASE = { lease_until: null, lease_token: null } as const;

/**
 * Locks one of the tenant's webhooks (`NotFound` when it has none by that id), asks `decide`
 * what to change (undefined: nothing, nothing written or audited), writes it and audits it.
 */
async function changeLockedWebhook(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  now: Date,
  decide: (before: WebhookRow) => LockedChange | undefined,
): Promise<WebhookRow> {
  return inTransaction(db, async (tx) => {
    const before = await lockWebhook(tx, tenantId, id);
    const change = decide(before);
    if (!change) return before;
    const after = await tx
      .updateTable('webhook_endpoints')
      .set({ ...change.set, updated_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx, tenantId, context, {
      action: change.action,
      target: { type: 'webhook', id },
      changes: change.changes(before, after),
    });
    return after;
  });
}

/**
 * Changes a webhook's URL, event types or format; what is absent stays, and an empty change
 * writes nothing. The cursor stays: the events not yet delivered go to the new URL, and a
 * failing endpoint is tried again at once. A send in flight at the time finishes but moves no
 * cursor (its lease is revoked).
 */
export async function updateWebhook(
  db: Db,
  tenantId: string,
  id: string,
  change: Partial<WebhookInput>,
  context: ChangeContext,
  options: WebhookChangeOptions = {},
): Promise<Webhook> {
  if (typeof change !== 'object' || change === null)
    throw invalid('a change names url, events or format', { field: 'url' });
  const url = change.url === undefined ? undefined : checkWebhookUrl(change.url, options.policy);
  const events = change.events === undefined ? undefined : checkWebhookEvents(change.events);
  const format = change.format === undefined ? undefined : checkWebhookFormat(change.format);
  const now = (options.clock ?? systemClock).now();
  const row = await changeLockedWebhook(db, tenantId, id, context, now, () =>
    url === undefined && events === undefined && format === undefined
      ? undefined
      : {
          set: {
            ...(url === undefined ? {} : { url }),
            ...(events === undefined ? {} : { event_types: events }),
            ...(format === undefined ? {} : { format }),
            next_attempt_at: now,
            ...REVOKED_LEASE,
          },
          action: 'webhook.updated',
          changes: (before, after) => ({
            before: auditView(toWebhook(before)),
            after: auditView(toWebhook(after)),
          }),
        },
  );
  return toWebhook(row);
}

/**
 * Gives a webhook a new signing secret, returned here only. The previous one keeps signing
 * beside it (two `v1,` signatures) for `overlapMs` (default {@link WEBHOOK_SECRET_OVERLAP_MS},
 * at most {@link MAX_WEBHOOK_SECRET_OVERLAP_MS}; 0 ends it at once). A secret older than the
 * previous one stops signing at once: only one overlap runs at a time.
 */
export async function rotateWebhookSecret(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  options: { overlapMs?: number; clock?: Clock } = {},
): Promise<IssuedWebhook> {
  const overlapMs = options.overlapMs ?? WEBHOOK_SECRET_OVERLAP_MS;
  if (!Number.isInteger(overlapMs) || overlapMs < 0 || overlapMs > MAX_WEBHOOK_SECRET_OVERLAP_MS)
    throw invalid(
      `overlapMs is a whole number of milliseconds from 0 to ${MAX_WEBHOOK_SECRET_OVERLAP_MS}`,
      { field: 'overlapMs' },
    );
  const now = (options.clock ?? systemClock).now();
  const secret = newWebhookSecret();
  const expiresAt = overlapMs === 0 ? null : new Date(now.getTime() + overlapMs);
  const row = await changeLockedWebhook(db, tenantId, id, context, now, (before) => ({
    set: {
      secret,
      previous_secret: expiresAt === null ? null : before.secret,
      previous_secret_expires_at: expiresAt,
    },
    action: 'webhook.secret_rotated',
    changes: () => ({ previousSecretExpiresAt: expiresAt?.toISOString() ?? null }),
  }));
  return { webhook: toWebhook(row), secret };
}

/**
 * Disables a webhook (reason `operator`): nothing more is sent until it is enabled, and its
 * cursor stays where it is. Disabling a disabled webhook changes nothing.
 */
export async function disableWebhook(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  options: { clock?: Clock } = {},
): Promise<Webhook> {
  const now = (options.clock ?? systemClock).now();
  const row = await changeLockedWebhook(db, tenantId, id, context, now, (before) =>
    before.state === 'disabled'
      ? undefined
      : {
          set: { state: 'disabled', disabled_reason: 'operator', ...REVOKED_LEASE },
          action: 'webhook.disabled',
          changes: () => ({ reason: 'operator' }),
        },
  );
  return toWebhook(row);
}

/**
 * Enables a webhook: it catches up from its cursor (every event after the last one delivered,
 * in order), starting at once, its failure count reset. Enabling an enabled webhook changes
 * nothing.
 */
export async function enableWebhook(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  options: { clock?: Clock } = {},
): Promise<Webhook> {
  const now = (options.clock ?? systemClock).now();
  const row = await changeLockedWebhook(db, tenantId, id, context, now, (before) =>
    before.state === 'enabled'
      ? undefined
      : {
          set: {
            state: 'enabled',
            disabled_reason: null,
            failing_since: null,
            attempts: 0,
            next_attempt_at: now,
            ...REVOKED_LEASE,
          },
          action: 'webhook.enabled',
          changes: () => ({
            previousReason: before.disabled_reason,
            deliveredSeq: before.delivered_seq,
          }),
        },
  );
  return toWebhook(row);
}

/** Removes a webhook and its attempt log. */
export async function removeWebhook(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    const before = toWebhook(await lockWebhook(tx, tenantId, id));
    await tx
      .deleteFrom('webhook_endpoints')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
    await recordAudit(tx, tenantId, context, {
      action: 'webhook.removed',
      target: { type: 'webhook', id },
      changes: auditView(before),
    });
  });
}

/** Where a replay starts: at an event (included), or at the first event at or after a time. */
export type WebhookReplayStart = { eventId: string } | { time: Date };

/**
 * Sends a webhook its events again from `since` on: the event with that id (of this tenant)
 * and every later one, or every event that occurred at or after that time. The cursor only ever
 * moves back: a start after the cursor changes nothing, since those events are still owed and
 * skipping them would lose them. Events already pruned by retention are not replayed (the
 * replay starts at the oldest one kept). A send in flight finishes but moves no cursor. A
 * disabled webhook keeps its state: the replayed events go out once it is enabled.
 *
 * @example
 * await replayWebhook(db, tenant.id, webhook.id, { time: new Date('2026-12-01T00:00:00Z') }, ctx);
 */
export async function replayWebhook(
  db: Db,
  tenantId: string,
  id: string,
  since: WebhookReplayStart,
  context: ChangeContext,
  options: { clock?: Clock } = {},
): Promise<Webhook> {
  const fromSeq = await replayStartSeq(db, tenantId, since);
  const now = (options.clock ?? systemClock).now();
  const row = await changeLockedWebhook(db, tenantId, id, context, now, (before) =>
    fromSeq === undefined || fromSeq - 1 >= before.delivered_seq
      ? undefined
      : {
          set: { delivered_seq: fromSeq - 1, attempts: 0, next_attempt_at: now, ...REVOKED_LEASE },
          action: 'webhook.replayed',
          changes: () => ({
            since:
              'eventId' in since ? { eventId: since.eventId } : { time: since.time.toISOString() },
            deliveredSeq: { before: before.delivered_seq, after: fromSeq - 1 },
          }),
        },
  );
  return toWebhook(row);
}

/**
 * Reads where a replay starts from what an operator typed (`--since`, `?since=`): an event id
 * (`evt_...`), or an RFC 3339 time. Anything else is `Invalid` (field `since`).
 *
 * @example
 * parseWebhookReplayStart('2026-12-01T00:00:00Z'); // { time: Date }
 * parseWebhookReplayStart('evt_...'); // { eventId: 'evt_...' }
 */
export function parseWebhookReplayStart(text: string): WebhookReplayStart {
  if (typeof text !== 'string' || text.length === 0)
    throw invalid('since is an event id (evt_...) or an RFC 3339 time', { field: 'since' });
  if (text.startsWith('evt_')) return { eventId: text };
  return { time: parseTimestamp(text, 'since') };
}

/** The first seq a replay sends; undefined when no event starts there (nothing to replay). */
async function replayStartSeq(
  db: Db,
  tenantId: string,
  since: WebhookReplayStart,
): Promise<number | undefined> {
  if (typeof since !== 'object' || since === null)
    throw invalid('since is an event id or a time', { field: 'since' });
  if ('eventId' in since) {
    if (typeof since.eventId !== 'string')
      throw invalid('since is an event id or a time', { field: 'since' });
    let parsed: { tenantId: string; seq: number };
    try {
      parsed = parseEventId(since.eventId);
    } catch {
      throw invalid('since is not an event id (evt_...)', { field: 'since' });
    }
    if (parsed.tenantId !== tenantId || parsed.seq < 1)
      throw invalid('since names an event of another tenant', { field: 'since' });
    return parsed.seq;
  }
  if (!('time' in since) || !(since.time instanceof Date) || Number.isNaN(since.time.getTime()))
    throw invalid('since is an event id or a time', { field: 'since' });
  const first = await db
    .selectFrom('change_outbox')
    .select('seq')
    .where('tenant_id', '=', tenantId)
    .where('occurred_at', '>=', since.time)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return first === undefined ? undefined : Number(first.seq);
}

/**
 * The attempt log of one of the tenant's webhooks, newest first: every send of an event or a
 * ping, with its status, latency, error and the start of the answer. Pages with `beforeId` (the
 * id of the last attempt of the previous page). `NotFound` for an unknown webhook.
 */
export async function listWebhookAttempts(
  db: Db,
  tenantId: string,
  id: string,
  options: { limit?: number; beforeId?: number } = {},
): Promise<WebhookAttempt[]> {
  await getWebhook(db, tenantId, id);
  let query = db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('endpoint_id', '=', id);
  if (options.beforeId !== undefined) {
    if (!Number.isSafeInteger(options.beforeId))
      throw invalid('beforeId is an attempt id', { field: 'beforeId' });
    query = query.where('id', '<', options.beforeId);
  }
  const rows = await query
    .orderBy('id', 'desc')
    .limit(clampLimit(options.limit, DEFAULT_WEBHOOK_ATTEMPTS_LISTED, MAX_WEBHOOK_ATTEMPTS_LISTED))
    .execute();
  return rows.map(toWebhookAttempt);
}

/** How long attempt log rows are kept. */
export const WEBHOOK_ATTEMPT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Most attempt log rows deleted by one `pruneWebhookAttempts` statement. */
export const WEBHOOK_ATTEMPT_PRUNE_BATCH_SIZE = 1000;

/**
 * Deletes attempt log rows older than {@link WEBHOOK_ATTEMPT_RETENTION_MS}, a batch at a time
 * (short statements that never hold up the worker). Safe on every instance at once.
 */
export async function pruneWebhookAttempts(db: Db, clock: Clock): Promise<{ deleted: number }> {
  const before = new Date(clock.now().getTime() - WEBHOOK_ATTEMPT_RETENTION_MS);
  let deleted = 0;
  for (;;) {
    const result = await db
      .deleteFrom('webhook_attempts')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_attempts')
          .select('id')
          .where('attempted_at', '<', before)
          .limit(WEBHOOK_ATTEMPT_PRUNE_BATCH_SIZE)
          .forUpdate()
          .skipLocked(),
      )
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < WEBHOOK_ATTEMPT_PRUNE_BATCH_SIZE) return { deleted };
  }
}
