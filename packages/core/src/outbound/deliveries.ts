// The delivery queue: calls Roster must make out (back-channel logout tokens, webhooks), kept in
// the database so that a restart loses none. A delivery is enqueued in the transaction of the
// change that causes it (a transactional outbox: committed with the change, or not at all) and
// sent by whichever instance's worker claims it first, at least once, with retries.
import { sql, type Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { Clock } from '../clock.js';
import { SYSTEM } from '../context/actor.js';
import type { DeliveryState, OutboundDeliveryTable } from '../db/database.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { clampLimit } from '../ids.js';
import type { Logger } from '../logger.js';
import { sendOutbound, type OutboundPolicy, type OutboundResponse } from './outbound-policy.js';
import {
  attemptErrorText,
  backoffDelayMs,
  originOf,
  storableExcerpt,
  type Backoff,
} from './retry.js';
import { startWorkerLoop, type WorkerLoop } from './worker-loop.js';

/** Deliveries claimed by one `deliverDue` call (and sent at once). */
export const DELIVERY_BATCH_SIZE = 20;
/** How long one send may take: connect, send and the whole answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Largest answer body read from a receiver (only an excerpt is kept). */
export const DELIVERY_MAX_RESPONSE_BYTES = 64 * 1024;
/**
 * Added to the send timeout to make the claim's lease: a claimed delivery is not claimed again
 * before `timeout + margin`, unless its claimer died (then it is retried once the lease ends).
 */
export const DELIVERY_LEASE_MARGIN_MS = 30_000;
/** Delay before the first retry; each further retry doubles it (full jitter below it). */
export const DELIVERY_FIRST_RETRY_MS = 5_000;
/** Longest delay between two attempts. */
export const DELIVERY_MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** Shortest delay between two attempts (full jitter may draw 0). */
export const DELIVERY_MIN_RETRY_DELAY_MS = 1_000;
const DELIVERY_BACKOFF: Backoff = {
  firstMs: DELIVERY_FIRST_RETRY_MS,
  maxMs: DELIVERY_MAX_RETRY_DELAY_MS,
  minMs: DELIVERY_MIN_RETRY_DELAY_MS,
};
/** A delivery is given up (state `failed`) after failing this long after it was enqueued. */
export const DELIVERY_GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
/** How often the worker looks for due deliveries when nothing wakes it. */
export const DELIVERY_POLL_INTERVAL_MS = 1_000;
/**
 * The LISTEN/NOTIFY channel a commit that queued a delivery notifies: every instance's worker
 * wakes at once instead of at its next poll (the poll stays, in case a notification is lost).
 */
export const DELIVERIES_CHANNEL = 'roster_deliveries';
/** Longest delivery kind (`backchannel_logout`, `webhook`, ...). */
export const MAX_DELIVERY_KIND_LENGTH = 64;
/** Longest target URL. */
export const MAX_DELIVERY_TARGET_URL_LENGTH = 2048;
/** Largest payload, as JSON. */
export const MAX_DELIVERY_PAYLOAD_BYTES = 64 * 1024;
/** Longest error text kept for an attempt. */
export const MAX_DELIVERY_ERROR_LENGTH = 500;
/** Most deliveries one `listDeliveries` call returns (default 100). */
export const MAX_DELIVERIES_LISTED = 1000;

/** What a renderer gets: one claimed delivery. */
export interface PendingDelivery {
  readonly id: number;
  readonly tenantId: string;
  readonly kind: string;
  readonly targetUrl: string;
  readonly payload: unknown;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/**
 * Builds the request of one delivery from its payload (signing a logout token, say); called at
 * every attempt, so what it signs is fresh. A throw counts as a failed attempt.
 */
export type DeliveryRenderer = (
  delivery: PendingDelivery,
) => Promise<{ headers: Record<string, string>; body: string }>;

/** A delivery as operators see it (its payload is not shown). */
export interface Delivery {
  readonly id: number;
  readonly tenantId: string;
  readonly kind: string;
  readonly targetUrl: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastAttemptAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

/** One attempt of a delivery. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly attemptedAt: Date;
  readonly status: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

const jsonb = (value: string) => sql<unknown>`cast(${value}::text as jsonb)`;

/**
 * Queues a delivery in the caller's transaction: it is sent only if that transaction commits.
 * The payload is what the renderer needs, as JSON, and never a secret (it is stored as is).
 * Throws `Invalid` for a target that is not an http(s) URL, an empty or long kind, or a payload
 * over {@link MAX_DELIVERY_PAYLOAD_BYTES}. With `clock`, the delivery is due from its now;
 * otherwise from the database's.
 *
 * @example
 * await inTransaction(db, async (tx) => {
 *   await endSession(tx, ...);
 *   await enqueueDelivery(tx, { tenantId, kind: 'backchannel_logout', targetUrl, payload: { sid } });
 * });
 */
export async function enqueueDelivery(
  db: Db,
  delivery: { tenantId: string; kind: string; targetUrl: string; payload: unknown },
  clock?: Clock,
): Promise<void> {
  const { tenantId, kind, targetUrl } = delivery;
  if (kind === '' || kind.length > MAX_DELIVERY_KIND_LENGTH)
    throw invalid(`a delivery kind is 1 to ${MAX_DELIVERY_KIND_LENGTH} characters`, {
      field: 'kind',
    });
  checkTargetUrl(targetUrl);
  const payload = JSON.stringify(delivery.payload) as string | undefined;
  if (payload === undefined) throw invalid('a delivery payload must be JSON', { field: 'payload' });
  if (Buffer.byteLength(payload, 'utf8') > MAX_DELIVERY_PAYLOAD_BYTES)
    throw invalid(`a delivery payload is at most ${MAX_DELIVERY_PAYLOAD_BYTES} bytes of JSON`, {
      field: 'payload',
    });
  const now = clock ? clock.now() : sql<Date>`now()`;
  await db
    .insertInto('outbound_deliveries')
    .values({
      tenant_id: tenantId,
      kind,
      target_url: targetUrl,
      payload: jsonb(payload),
      next_attempt_at: now,
      created_at: now,
    })
    .execute();
  // Delivered at commit, dropped on rollback; several in one transaction are folded into one.
  await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(db);
}

function checkTargetUrl(targetUrl: string): void {
  let url: URL | undefined;
  try {
    url = new URL(targetUrl);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    targetUrl.length > MAX_DELIVERY_TARGET_URL_LENGTH
  )
    throw invalid(
      `a delivery target is an http(s) URL of at most ${MAX_DELIVERY_TARGET_URL_LENGTH} characters`,
      { field: 'targetUrl' },
    );
}

/** What `deliverDue` needs: a renderer per kind, the outbound policy, time and a logger. */
export interface DeliveryOptions {
  /** Only deliveries of these kinds are claimed: an instance without the renderer leaves them. */
  readonly renderers: Readonly<Record<string, DeliveryRenderer>>;
  readonly policy: OutboundPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default {@link DELIVERY_BATCH_SIZE}. */
  readonly batchSize?: number;
  /** Default {@link DELIVERY_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Default {@link DELIVERY_MAX_RESPONSE_BYTES}. */
  readonly maxResponseBytes?: number;
  /** Draws the retry jitter, in [0, 1); tests fix it. */
  readonly random?: () => number;
}

/** How many deliveries one `deliverDue` call delivered, scheduled again and gave up. */
export interface DeliverySummary {
  readonly delivered: number;
  readonly retried: number;
  readonly failed: number;
}

type DeliveryRow = Selectable<OutboundDeliveryTable>;

/**
 * Sends the due deliveries, a batch at a time: claims them (`FOR UPDATE SKIP LOCKED`, so any
 * number of instances share the work) by moving their next attempt a lease into the future, in
 * one short statement; sends outside any transaction; then records each outcome. A 2xx answer
 * delivers; anything else (3xx included: redirects are not followed) is retried with exponential
 * backoff and full jitter, and given up after {@link DELIVERY_GIVE_UP_AFTER_MS} with a
 * `delivery.failed` audit event. A process killed mid-send leaves its claim to expire: another
 * instance sends again (at least once; only the in-flight send may be duplicated).
 *
 * @example
 * const { delivered } = await deliverDue(db, { renderers, policy, clock, logger });
 */
export async function deliverDue(db: Db, options: DeliveryOptions): Promise<DeliverySummary> {
  const kinds = Object.keys(options.renderers);
  if (kinds.length === 0) return { delivered: 0, retried: 0, failed: 0 };
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const claimed = await claimDue(db, kinds, {
    now: options.clock.now(),
    leaseMs: timeoutMs + DELIVERY_LEASE_MARGIN_MS,
    batchSize: options.batchSize ?? DELIVERY_BATCH_SIZE,
  });
  const outcomes = await Promise.all(
    claimed.map((row) => attemptDelivery(db, row, { ...options, timeoutMs })),
  );
  return {
    delivered: outcomes.filter((outcome) => outcome === 'delivered').length,
    retried: outcomes.filter((outcome) => outcome === 'retried').length,
    failed: outcomes.filter((outcome) => outcome === 'failed').length,
  };
}

async function claimDue(
  db: Db,
  kinds: readonly string[],
  claim: { now: Date; leaseMs: number; batchSize: number },
): Promise<DeliveryRow[]> {
  const leaseUntil = new Date(claim.now.getTime() + claim.leaseMs);
  // One statement: the rows are locked, skipped by every other claimer, and leased together.
  return db
    .updateTable('outbound_deliveries')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_attempt_at: claim.now,
      next_attempt_at: leaseUntil,
    }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbound_deliveries')
        .select('id')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', claim.now)
        .where('kind', 'in', kinds)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(claim.batchSize)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
}

type Outcome = 'delivered' | 'retried' | 'failed' | 'superseded';

async function attemptDelivery(
  db: Db,
  row: DeliveryRow,
  options: DeliveryOptions & { timeoutMs: number },
): Promise<Outcome> {
  const delivery: PendingDelivery = {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    targetUrl: row.target_url,
    payload: row.payload,
    attempts: row.attempts,
    createdAt: row.created_at,
  };
  const renderer = options.renderers[row.kind] as DeliveryRenderer;
  let response: OutboundResponse | undefined;
  let error: string | undefined;
  try {
    const request = await renderer(delivery);
    response = await sendOutbound(
      row.target_url,
      { method: 'POST', headers: request.headers, body: request.body },
      {
        policy: options.policy,
        timeoutMs: options.timeoutMs,
        maxResponseBytes: options.maxResponseBytes ?? DELIVERY_MAX_RESPONSE_BYTES,
      },
    );
    if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
  } catch (thrown) {
    error = attemptErrorText(thrown);
  }
  const now = options.clock.now();
  const outcome = await recordOutcome(db, row, {
    now,
    status: response?.status ?? null,
    latencyMs: response?.latencyMs ?? null,
    error: error === undefined ? null : storableExcerpt(error).slice(0, MAX_DELIVERY_ERROR_LENGTH),
    excerpt: response ? storableExcerpt(response.bodyExcerpt) : null,
    retryAt: error === undefined ? null : retryTime(row, now, options.random ?? Math.random),
  });
  const where = { deliveryId: row.id, tenantId: row.tenant_id, kind: row.kind };
  const target = originOf(row.target_url);
  if (outcome === 'delivered')
    options.logger.debug({ ...where, target, attempt: row.attempts }, 'delivery.delivered');
  else if (outcome === 'retried')
    options.logger.info(
      { ...where, target, attempt: row.attempts, status: response?.status, error },
      'delivery.retry',
    );
  else if (outcome === 'failed')
    options.logger.warn(
      { ...where, target, attempts: row.attempts, status: response?.status, error },
      'delivery.failed',
    );
  return outcome;
}

/**
 * When to try again ({@link backoffDelayMs}); never later than the give-up time, so the last
 * attempt happens then. Undefined: give up.
 */
function retryTime(row: DeliveryRow, now: Date, random: () => number): Date | undefined {
  const giveUpAt = row.created_at.getTime() + DELIVERY_GIVE_UP_AFTER_MS;
  if (now.getTime() >= giveUpAt) return undefined;
  const delay = backoffDelayMs(row.attempts, DELIVERY_BACKOFF, random);
  return new Date(Math.min(now.getTime() + delay, giveUpAt));
}

async function recordOutcome(
  db: Db,
  row: DeliveryRow,
  result: {
    now: Date;
    status: number | null;
    latencyMs: number | null;
    error: string | null;
    excerpt: string | null;
    retryAt: Date | null | undefined;
  },
): Promise<Outcome> {
  return inTransaction(db, async (tx) => {
    await tx
      .insertInto('outbound_delivery_attempts')
      .values({
        delivery_id: row.id,
        attempt: row.attempts,
        attempted_at: result.now,
        status: result.status,
        latency_ms: result.latencyMs,
        error: result.error,
        response_excerpt: result.excerpt,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const common = {
      last_status: result.status,
      last_error: result.error,
    };
    if (result.error === null) {
      // Delivered, even when this claim's lease had run out and another instance claimed it.
      const done = await tx
        .updateTable('outbound_deliveries')
        .set({ ...common, state: 'delivered', delivered_at: result.now })
        .where('id', '=', row.id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      return done.numUpdatedRows > 0n ? 'delivered' : 'superseded';
    }
    // A failure is recorded only while the claim is still this one (no later attempt began).
    const stillOurs = tx
      .updateTable('outbound_deliveries')
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .where('attempts', '=', row.attempts);
    if (result.retryAt) {
      const retried = await stillOurs
        .set({ ...common, next_attempt_at: result.retryAt })
        .executeTakeFirst();
      return retried.numUpdatedRows > 0n ? 'retried' : 'superseded';
    }
    const failed = await stillOurs.set({ ...common, state: 'failed' }).executeTakeFirst();
    if (failed.numUpdatedRows === 0n) return 'superseded';
    await recordAudit(tx, row.tenant_id, SYSTEM_CONTEXT, {
      action: 'delivery.failed',
      target: { type: 'delivery', id: String(row.id) },
      changes: {
        kind: row.kind,
        target: originOf(row.target_url),
        attempts: row.attempts,
        lastStatus: result.status,
        lastError: result.error,
      },
      occurredAt: result.now,
    });
    return 'failed';
  });
}

const SYSTEM_CONTEXT = { actor: SYSTEM };

/** A running delivery worker. */
export type DeliveryWorker = WorkerLoop;

/**
 * Runs {@link deliverDue} every `intervalMs`, at once when `wake()` is called, and again straight
 * away while batches come back full. Safe on every instance at once. Errors are logged
 * (`delivery.worker.failed`), never thrown.
 *
 * @example
 * const worker = startDeliveryWorker(db, { renderers, policy, clock, logger, intervalMs: 1000 });
 * await worker.stop();
 */
export function startDeliveryWorker(
  db: Db,
  options: DeliveryOptions & { intervalMs: number },
): DeliveryWorker {
  const batchSize = options.batchSize ?? DELIVERY_BATCH_SIZE;
  return startWorkerLoop(
    async () => {
      const { delivered, retried, failed } = await deliverDue(db, options);
      return delivered + retried + failed >= batchSize;
    },
    {
      intervalMs: options.intervalMs,
      logger: options.logger,
      failureMessage: 'delivery.worker.failed',
    },
  );
}

/**
 * A tenant's deliveries, newest first, for operators: what was sent where, its state, attempts
 * and last answer. Read-only.
 */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  query: { kind?: string; limit: number },
): Promise<Delivery[]> {
  let select = db
    .selectFrom('outbound_deliveries')
    .select([
      'id',
      'tenant_id',
      'kind',
      'target_url',
      'state',
      'attempts',
      'next_attempt_at',
      'last_attempt_at',
      'last_status',
      'last_error',
      'created_at',
      'delivered_at',
    ])
    .where('tenant_id', '=', tenantId);
  if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
  const rows = await select
    .orderBy('id', 'desc')
    .limit(clampLimit(query.limit, 100, MAX_DELIVERIES_LISTED))
    .execute();
  return rows.map((row) => ({
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    targetUrl: row.target_url,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  }));
}

/** The attempts of one of a tenant's deliveries, in order; empty for another tenant's. */
export async function listDeliveryAttempts(
  db: Db,
  tenantId: string,
  deliveryId: number,
): Promise<DeliveryAttempt[]> {
  const rows = await db
    .selectFrom('outbound_delivery_attempts as a')
    .innerJoin('outbound_deliveries as d', 'd.id', 'a.delivery_id')
    .select([
      'a.attempt',
      'a.attempted_at',
      'a.status',
      'a.latency_ms',
      'a.error',
      'a.response_excerpt',
    ])
    .where('d.tenant_id', '=', tenantId)
    .where('a.delivery_id', '=', deliveryId)
    .orderBy('a.attempt')
    .execute();
  return rows.map((row) => ({
    attempt: row.attempt,
    attemptedAt: row.attempted_at,
    status: row.status,
    latencyMs: row.latency_ms,
    error: row.error,
    responseExcerpt: row.response_excerpt,
  }));
}

/** Most finished deliveries deleted by one `pruneDeliveries` statement. */
export const DELIVERY_PRUNE_BATCH_SIZE = 1000;
/** How long delivered and failed deliveries (and their attempts) are kept for operators. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Deletes delivered and failed deliveries older than {@link DELIVERY_RETENTION_MS}, their
 * attempts with them, a batch at a time; pending ones are never pruned. Safe on every instance.
 */
export async function pruneDeliveries(db: Db, clock: Clock): Promise<{ deleted: number }> {
  const before = new Date(clock.now().getTime() - DELIVERY_RETENTION_MS);
  let deleted = 0;
  for (;;) {
    const result = await db
      .deleteFrom('outbound_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('outbound_deliveries')
          .select('id')
          .where('state', '<>', 'pending')
          .where('created_at', '<', before)
          .limit(DELIVERY_PRUNE_BATCH_SIZE)
          .forUpdate()
          .skipLocked(),
      )
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < DELIVERY_PRUNE_BATCH_SIZE) return { deleted };
  }
}
