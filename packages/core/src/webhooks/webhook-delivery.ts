// Sending webhooks: each endpoint follows its tenant's events with its own cursor (delivered_seq)
// and gets them one by one, in order, at least once. Any number of instances share the work: a
// worker claims due endpoints (`FOR UPDATE SKIP LOCKED`) by giving them a lease and a fresh
// lease token, sends outside any transaction, and moves the cursor after each 2xx only while
// the token is still its own. A worker that dies (or stalls past its lease) loses the endpoint
// to the next claim, which sends again from the cursor: only what was in flight is sent twice.
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { systemClock, type Clock } from '../clock.js';
import { SYSTEM } from '../context/actor.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { notFound, sqlState } from '../errors.js';
import {
  EVENT_VERSION,
  eventJson,
  readEvents,
  type EventType,
  type RosterEvent,
} from '../events/event.js';
import type { Logger } from '../logger.js';
import {
  sendOutbound,
  type OutboundPolicy,
  type OutboundResponse,
} from '../outbound/outbound-policy.js';
import {
  attemptErrorText,
  backoffDelayMs,
  originOf,
  storableExcerpt,
  type Backoff,
} from '../outbound/retry.js';
import { eventsPrunedSeq } from '../events/retention.js';
import { scimEventTypes } from '../events/scim-events.js';
import { startWorkerLoop } from '../outbound/worker-loop.js';
import { webhookHeaders } from './signing.js';
import {
  isWebhookId,
  signingSecrets,
  toWebhook,
  toWebhookAttempt,
  type Webhook,
  type WebhookAttempt,
  type WebhookFormat,
  type WebhookRow,
} from './webhook.js';

/** Endpoints claimed by one `deliverDueWebhooks` call (and served at once, each in order). */
export const WEBHOOK_BATCH_SIZE = 10;
/** Most events one claim sends to one endpoint before it lets the endpoint go (due again at once). */
export const WEBHOOK_EVENTS_PER_CLAIM = 100;
/** How long one send may take: connect, send and the whole answer. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Largest answer body read from a receiver (only an excerpt is kept). */
export const WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;
/**
 * Added to the send timeout to make the lease: a claimed endpoint is not claimed again before
 * it runs out. It is renewed after every delivered event.
 */
export const WEBHOOK_LEASE_MARGIN_MS = 30_000;
/** Ceiling of the first retry's delay; each further failure doubles it (full jitter below). */
export const WEBHOOK_FIRST_RETRY_MS = 5_000;
/** Largest delay between two attempts. */
export const WEBHOOK_MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** Shortest delay between two attempts. */
export const WEBHOOK_MIN_RETRY_DELAY_MS = 1_000;
/**
 * An endpoint whose head event has been failing this long is disabled (reason `failing`, an
 * audit event and a warn log line); enabling it resumes from its cursor.
 */
export const WEBHOOK_DISABLE_AFTER_MS = 24 * 60 * 60 * 1000;
/** How long an endpoint of a format this instance cannot render is left before it looks again. */
export const WEBHOOK_UNRENDERABLE_RETRY_MS = 60_000;
/** How often the worker looks for due endpoints when nothing wakes it. */
export const WEBHOOK_POLL_INTERVAL_MS = 1_000;

const WEBHOOK_BACKOFF: Backoff = {
  firstMs: WEBHOOK_FIRST_RETRY_MS,
  maxMs: WEBHOOK_MAX_RETRY_DELAY_MS,
  minMs: WEBHOOK_MIN_RETRY_DELAY_MS,
};

const PG_FOREIGN_KEY_VIOLATION = '23503';

/** HTTP 410 Gone: the receiver says the endpoint is no more (disabled at once, reason `gone`). */
const GONE = 410;

/** Builds the body of one event for an endpoint of a non-standard format. */
export type WebhookBodyRenderer = (
  event: RosterEvent,
  webhook: Webhook,
) => Promise<{ contentType: string; body: string }>;

/** What the worker needs. */
export interface WebhookWorkerOptions {
  policy: OutboundPolicy;
  logger: Logger;
  /** Default the system clock. */
  clock?: Clock;
  /** Renderers of the formats other than `standard` (`scim-events`): without one, skipped. */
  formats?: Partial<Record<WebhookFormat, WebhookBodyRenderer>>;
  /** Default {@link WEBHOOK_BATCH_SIZE}. */
  batchSize?: number;
  /** Default {@link WEBHOOK_EVENTS_PER_CLAIM}. */
  eventsPerClaim?: number;
  /** Default {@link WEBHOOK_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Default {@link WEBHOOK_MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
  /** Draws the retry jitter, in [0, 1); tests fix it. */
  random?: () => number;
}

/**
 * The `standard` body: the event as the events API lists it (`eventJson`), plus `tenant`, the
 * tenant's slug, so that one receiver can serve several tenants.
 */
export function standardWebhookBody(event: RosterEvent, tenantSlug: string): string {
  return JSON.stringify({ ...eventJson(event), tenant: tenantSlug });
}

type ClaimedRow = WebhookRow & { outbox_seq: number; tenant_slug: string };

/** What one send needs. */
interface SendSettings {
  readonly policy: OutboundPolicy;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

interface Round extends SendSettings {
  readonly db: Db;
  readonly options: WebhookWorkerOptions;
  readonly leaseMs: number;
  readonly token: string;
}

/** What one call did: events delivered, attempts failed, and whether more is due at once. */
interface RoundResult {
  sent: number;
  failed: number;
  more: boolean;
}

/**
 * Sends due webhook events: claims up to {@link WEBHOOK_BATCH_SIZE} due endpoints (enabled, due,
 * not leased by another worker, with events after their cursor), then serves them at once, each
 * in order: its events after the cursor (of its types) one by one, the cursor moved after each
 * 2xx. A failure (no answer, or anything but 2xx: redirects are not followed) stops that
 * endpoint for this round, retried with exponential backoff and full jitter; failing for
 * {@link WEBHOOK_DISABLE_AFTER_MS} disables it, and so does a 410 Gone at once. Every attempt is
 * in the attempt log.
 *
 * @example
 * const { sent, failed } = await deliverDueWebhooks(db, { policy, logger });
 */
export async function deliverDueWebhooks(
  db: Db,
  options: WebhookWorkerOptions,
): Promise<{ sent: number; failed: number }> {
  const { sent, failed } = await deliverRound(db, options);
  return { sent, failed };
}

async function deliverRound(db: Db, options: WebhookWorkerOptions): Promise<RoundResult> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const batchSize = options.batchSize ?? WEBHOOK_BATCH_SIZE;
  const round: Round = {
    db,
    options,
    policy: options.policy,
    clock,
    timeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? WEBHOOK_MAX_RESPONSE_BYTES,
    leaseMs: timeoutMs + WEBHOOK_LEASE_MARGIN_MS,
    token: randomUUID(),
  };
  const claimed = await claimDueEndpoints(round, batchSize);
  const results = await Promise.all(
    claimed.map((row) =>
      serveEndpoint(round, row).catch((error: unknown): RoundResult => {
        // A database error mid-way: the lease runs out and the next claim resumes from the cursor.
        options.logger.error({ err: error, webhookId: row.id }, 'webhook.endpoint_failed');
        return { sent: 0, failed: 0, more: false };
      }),
    ),
  );
  return {
    sent: results.reduce((sum, result) => sum + result.sent, 0),
    failed: results.reduce((sum, result) => sum + result.failed, 0),
    more: claimed.length >= batchSize || results.some((result) => result.more),
  };
}

async function claimDueEndpoints(round: Round, batchSize: number): Promise<ClaimedRow[]> {
  const now = round.clock.now();
  const leaseUntil = new Date(now.getTime() + round.leaseMs);
  // One statement: the due rows are locked (skipped by every other claimer) and leased
  // together. The tenant row is only read (a subquery is not locked by FOR UPDATE): writers
  // hold it to commit. Its outbox_seq, read here, is committed: every event up to it is visible.
  const { rows } = await sql<ClaimedRow>`
    update webhook_endpoints e
    set lease_until = ${leaseUntil}, lease_token = ${round.token}
    from (
      select w.id from webhook_endpoints w
      where w.state = 'enabled'
        and w.next_attempt_at <= ${now}
        and (w.lease_until is null or w.lease_until <= ${now})
        and exists (
          select 1 from tenants t where t.id = w.tenant_id and t.outbox_seq > w.delivered_seq
        )
      order by w.next_attempt_at, w.id
      limit ${batchSize}
      for update skip locked
    ) due
    where e.id = due.id
    returning e.*,
      (select t.outbox_seq from tenants t where t.id = e.tenant_id) as outbox_seq,
      (select t.slug from tenants t where t.id = e.tenant_id) as tenant_slug`.execute(round.db);
  return rows.map((row) => ({
    ...row,
    delivered_seq: Number(row.delivered_seq),
    outbox_seq: Number(row.outbox_seq),
  }));
}

/** The outcome of one send. */
interface SendResult {
  readonly attemptedAt: Date;
  readonly response: OutboundResponse | undefined;
  readonly error: string | null;
}

async function serveEndpoint(round: Round, row: ClaimedRow): Promise<RoundResult> {
  const webhook = toWebhook(row);
  const { logger } = round.options;
  const where = { webhookId: row.id, tenantId: row.tenant_id, target: originOf(row.url) };
  const renderer = row.format === 'standard' ? undefined : round.options.formats?.[row.format];
  if (row.format !== 'standard' && !renderer) {
    logger.warn({ ...where, format: row.format }, 'webhook.format_unavailable');
    await releaseEndpoint(round, row, {
      next_attempt_at: new Date(round.clock.now().getTime() + WEBHOOK_UNRENDERABLE_RETRY_MS),
    });
    return { sent: 0, failed: 0, more: false };
  }
  const limit = round.options.eventsPerClaim ?? WEBHOOK_EVENTS_PER_CLAIM;
  const subscribed = row.event_types.length === 0 ? undefined : (row.event_types as EventType[]);
  // RFC 9967 has no event URI for some types (session.ended): such events are not sent as SETs.
  const types = row.format === 'scim-events' ? scimEventTypes(subscribed) : subscribed;
  const prunedSeq = await eventsPrunedSeq(round.db, row.tenant_id);
  if (row.delivered_seq < prunedSeq) {
    // Events it was owed were pruned while it was disabled (or a replay reached past the
    // retention): they cannot be sent any more, so the cursor moves on to the oldest kept event.
    logger.warn(
      { ...where, fromSeq: row.delivered_seq, toSeq: prunedSeq },
      'webhook.events_pruned',
    );
    await releaseEndpoint(round, row, {
      delivered_seq: sql<number>`greatest(delivered_seq, ${prunedSeq})`,
      next_attempt_at: round.clock.now(),
    });
    return { sent: 0, failed: 0, more: true };
  }
  const { events } = await readEvents(round.db, row.tenant_id, {
    afterSeq: row.delivered_seq,
    limit,
    types,
  });
  let attempts = row.attempts;
  let failingSince = row.failing_since;
  let sent = 0;
  for (const event of events) {
    const attempt = attempts + 1;
    const result = await sendEvent(round, row, webhook, event, renderer);
    if (result.error === null) {
      const kept = await recordDelivered(round, row, event, attempt, result);
      logger.debug({ ...where, eventId: event.id, attempt }, 'webhook.delivered');
      sent++;
      attempts = 0;
      failingSince = null;
      if (!kept) {
        // Another worker holds the endpoint now (this lease ran out, or an operator changed it).
        logger.info({ ...where, eventId: event.id }, 'webhook.lease_lost');
        return { sent, failed: 0, more: false };
      }
      continue;
    }
    await recordFailed(round, row, event, { attempt, failingSince, result });
    return { sent, failed: 1, more: false };
  }
  // Every event of its types up to the claimed outbox_seq was read (fewer than the limit came
  // back): the cursor moves past the events of other types too, so the endpoint is not claimed
  // again for them.
  const complete = events.length < limit;
  await releaseEndpoint(round, row, {
    ...(complete ? { delivered_seq: sql<number>`greatest(delivered_seq, ${row.outbox_seq})` } : {}),
    next_attempt_at: round.clock.now(),
  });
  return { sent, failed: 0, more: !complete };
}

/** Renders, signs and sends one event (or ping); never throws. */
async function sendSigned(
  round: SendSettings,
  row: WebhookRow,
  messageId: string,
  render: () => Promise<{ contentType: string; body: string }>,
): Promise<SendResult> {
  const attemptedAt = round.clock.now();
  let response: OutboundResponse | undefined;
  let error: string | null = null;
  try {
    const { contentType, body } = await render();
    response = await sendOutbound(
      row.url,
      {
        method: 'POST',
        headers: {
          'content-type': contentType,
          ...webhookHeaders(signingSecrets(row, attemptedAt), messageId, attemptedAt, body),
        },
        body,
      },
      {
        policy: round.policy,
        timeoutMs: round.timeoutMs,
        maxResponseBytes: round.maxResponseBytes,
      },
    );
    if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
  } catch (thrown) {
    error = attemptErrorText(thrown);
  }
  return { attemptedAt, response, error: error === null ? null : storableExcerpt(error) };
}

function sendEvent(
  round: Round,
  row: ClaimedRow,
  webhook: Webhook,
  event: RosterEvent,
  renderer: WebhookBodyRenderer | undefined,
): Promise<SendResult> {
  return sendSigned(round, row, event.id, () =>
    renderer
      ? renderer(event, webhook)
      : Promise.resolve({
          contentType: 'application/json',
          body: standardWebhookBody(event, row.tenant_slug),
        }),
  );
}

/** The attempt log row of a send. */
function attemptValues(
  row: WebhookRow,
  message: { id: string; type: string },
  attempt: number,
  result: SendResult,
) {
  return {
    tenant_id: row.tenant_id,
    endpoint_id: row.id,
    event_id: message.id,
    event_type: message.type,
    attempt,
    attempted_at: result.attemptedAt,
    status: result.response?.status ?? null,
    latency_ms: result.response?.latencyMs ?? null,
    error: result.error,
    response_excerpt: result.response ? storableExcerpt(result.response.bodyExcerpt) : null,
  };
}

/** Lets the endpoint go (lease cleared), with `changes`, while the lease is still this round's. */
async function releaseEndpoint(
  round: Round,
  row: WebhookRow,
  changes: {
    next_attempt_at: Date;
    delivered_seq?: ReturnType<typeof sql<number>>;
  },
): Promise<void> {
  await round.db
    .updateTable('webhook_endpoints')
    .set({ ...changes, lease_until: null, lease_token: null })
    .where('id', '=', row.id)
    .where('lease_token', '=', round.token)
    .execute();
}

/**
 * Records a delivered event and moves the cursor to it, renewing the lease; false when the
 * lease is no longer this round's (the attempt is logged all the same: it happened).
 */
async function recordDelivered(
  round: Round,
  row: WebhookRow,
  event: RosterEvent,
  attempt: number,
  result: SendResult,
): Promise<boolean> {
  const now = round.clock.now();
  const logged = attemptValues(row, event, attempt, result);
  // One statement, so one round trip and one commit per delivered event: the attempt is logged
  // whatever happens to the lease (the send happened), the cursor moves only under this lease.
  const { rows } = await ifNotRemoved(
    sql<{ moved: string | number }>`
      with moved as (
        update webhook_endpoints
        set delivered_seq = ${event.seq}, attempts = 0, failing_since = null,
          last_delivered_at = ${now}, lease_until = ${new Date(now.getTime() + round.leaseMs)}
        where id = ${row.id} and lease_token = ${round.token} and delivered_seq < ${event.seq}
        returning id
      ), logged as (
        insert into webhook_attempts (tenant_id, endpoint_id, event_id, event_type, attempt,
          attempted_at, status, latency_ms, error, response_excerpt)
        values (${logged.tenant_id}, ${logged.endpoint_id}, ${logged.event_id},
          ${logged.event_type}, ${logged.attempt}, ${logged.attempted_at}, ${logged.status},
          ${logged.latency_ms}, ${logged.error}, ${logged.response_excerpt})
      )
      select count(*) as moved from moved`.execute(round.db),
    { rows: [] },
  );
  return Number(rows[0]?.moved ?? 0) > 0;
}

/**
 * What an outcome's transaction gave, or `removed` when the endpoint was removed during the send
 * (its attempt then has nowhere to go: the foreign key refuses it, and nothing is recorded).
 */
async function ifNotRemoved<T>(work: Promise<T>, removed: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (sqlState(error) === PG_FOREIGN_KEY_VIOLATION) return removed;
    throw error;
  }
}

/**
 * Records a failed attempt: retried after a backoff (never later than the time it would be
 * disabled, so the last attempt happens then), or disabled (`failing` after
 * {@link WEBHOOK_DISABLE_AFTER_MS}, `gone` on a 410) with an audit event and a warn log line.
 */
async function recordFailed(
  round: Round,
  row: WebhookRow,
  event: RosterEvent,
  failure: { attempt: number; failingSince: Date | null; result: SendResult },
): Promise<void> {
  const { attempt, result } = failure;
  const now = round.clock.now();
  const failingSince = failure.failingSince ?? result.attemptedAt;
  const disableAt = failingSince.getTime() + WEBHOOK_DISABLE_AFTER_MS;
  const status = result.response?.status ?? null;
  const reason = status === GONE ? 'gone' : now.getTime() >= disableAt ? 'failing' : undefined;
  const where = { webhookId: row.id, tenantId: row.tenant_id, target: originOf(row.url) };
  const disabled = await ifNotRemoved(
    inTransaction(round.db, async (tx) => {
      await tx
        .insertInto('webhook_attempts')
        .values(attemptValues(row, event, attempt, result))
        .execute();
      const ours = tx
        .updateTable('webhook_endpoints')
        .where('id', '=', row.id)
        .where('lease_token', '=', round.token);
      const common = {
        attempts: attempt,
        failing_since: failingSince,
        lease_until: null,
        lease_token: null,
      };
      if (reason === undefined) {
        const delay = backoffDelayMs(attempt, WEBHOOK_BACKOFF, round.options.random ?? Math.random);
        await ours
          .set({ ...common, next_attempt_at: new Date(Math.min(now.getTime() + delay, disableAt)) })
          .execute();
        return false;
      }
      const done = await ours
        .set({ ...common, state: 'disabled', disabled_reason: reason, updated_at: now })
        .executeTakeFirst();
      if (done.numUpdatedRows === 0n) return false;
      await recordAudit(
        tx,
        row.tenant_id,
        { actor: SYSTEM },
        {
          action: 'webhook.disabled',
          target: { type: 'webhook', id: row.id },
          changes: {
            reason,
            failingSince: failingSince.toISOString(),
            eventId: event.id,
            attempts: attempt,
            lastStatus: status,
            lastError: result.error,
          },
          occurredAt: now,
        },
      );
      return true;
    }),
    false,
  );
  const context = { ...where, eventId: event.id, attempt, status, error: result.error };
  if (disabled) round.options.logger.warn({ ...context, reason }, 'webhook.disabled');
  else round.options.logger.info(context, 'webhook.retry');
}

/** A running webhook worker. */
export interface WebhookWorker {
  /** Looks for due endpoints now (call it when a change commits), not at the next poll. */
  wake(): void;
  /** Stops polling and waits for the round in flight. */
  stop(): Promise<void>;
}

/**
 * Runs {@link deliverDueWebhooks} every `pollIntervalMs` (default
 * {@link WEBHOOK_POLL_INTERVAL_MS}: the safety net), at once when `wake()` is called (on the
 * `roster_changes` notification), and again straight away while there is more. Safe on every
 * instance at once. Errors are logged (`webhook.worker.failed`), never thrown.
 *
 * @example
 * const worker = startWebhookWorker(db, { policy, logger });
 * await listen(CHANGES_CHANNEL, () => worker.wake());
 * await worker.stop();
 */
export function startWebhookWorker(
  db: Db,
  options: WebhookWorkerOptions & { pollIntervalMs?: number },
): WebhookWorker {
  return startWorkerLoop(async () => (await deliverRound(db, options)).more, {
    intervalMs: options.pollIntervalMs ?? WEBHOOK_POLL_INTERVAL_MS,
    logger: options.logger,
    failureMessage: 'webhook.worker.failed',
  });
}

/** The `type` of a ping, in its body and in the attempt log. */
export const WEBHOOK_PING_TYPE = 'ping';

/**
 * Sends a `ping` to a webhook at once, enabled or not, and records it in its attempt log: a
 * JSON body `{id, type: "ping", version, occurredAt, tenant, data: {webhook: {id}}}`, signed
 * like every event (whatever the webhook's format), its id `ping_` and random hex. It moves no
 * cursor and counts toward no failure. `NotFound` for an unknown webhook.
 *
 * @example
 * const attempt = await sendWebhookPing(db, tenant.id, webhook.id, { policy });
 * // attempt.status === 200
 */
export async function sendWebhookPing(
  db: Db,
  tenantId: string,
  id: string,
  options: { policy: OutboundPolicy; clock?: Clock; timeoutMs?: number },
): Promise<WebhookAttempt> {
  if (!isWebhookId(id)) throw notFound(`webhook "${String(id).slice(0, 100)}" does not exist`);
  const row = await db
    .selectFrom('webhook_endpoints')
    .innerJoin('tenants', 'tenants.id', 'webhook_endpoints.tenant_id')
    .selectAll('webhook_endpoints')
    .select('tenants.slug as tenant_slug')
    .where('webhook_endpoints.tenant_id', '=', tenantId)
    .where('webhook_endpoints.id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(`webhook "${id}" does not exist in this tenant`);
  const clock = options.clock ?? systemClock;
  const ping = { id: `ping_${randomBytes(16).toString('hex')}`, type: WEBHOOK_PING_TYPE };
  const result = await sendSigned(
    {
      policy: options.policy,
      clock,
      timeoutMs: options.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      maxResponseBytes: WEBHOOK_MAX_RESPONSE_BYTES,
    },
    row,
    ping.id,
    () =>
      Promise.resolve({
        contentType: 'application/json',
        body: JSON.stringify({
          ...ping,
          version: EVENT_VERSION,
          occurredAt: clock.now().toISOString(),
          tenant: row.tenant_slug,
          data: { webhook: { id: row.id } },
        }),
      }),
  );
  const inserted = await ifNotRemoved(
    db
      .insertInto('webhook_attempts')
      .values(attemptValues(row, ping, 1, result))
      .returningAll()
      .executeTakeFirst(),
    undefined,
  );
  if (!inserted) throw notFound(`webhook "${id}" was removed during the ping`);
  return toWebhookAttempt(inserted);
}
