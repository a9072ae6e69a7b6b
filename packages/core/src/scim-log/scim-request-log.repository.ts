import { sql, type Selectable } from 'kysely';
import type { Clock } from '../clock.js';
import type { ScimRequestLogTable } from '../db/database.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { clampLimit, isUuid } from '../ids.js';
import { bodyForLog, redactText } from './redaction.js';

/** One SCIM request and its answer, as kept in the log (bodies already redacted and capped). */
export interface ScimRequestLogEntry {
  readonly id: number;
  readonly tenantId: string;
  readonly occurredAt: Date;
  readonly requestId: string;
  readonly method: string;
  /** Path and query string, as the IdP sent them (tokens redacted). */
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  /** The SCIM token that authenticated it; null when authentication failed. */
  readonly tokenId: string | null;
  readonly userAgent: string | null;
  readonly requestBody: unknown;
  readonly responseBody: unknown;
}

/** What the SCIM app knows about a request once it has answered it. Bodies are as parsed/sent. */
export interface ScimRequestRecord {
  readonly occurredAt: Date;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly tokenId?: string | null;
  readonly userAgent?: string | null;
  readonly requestBody?: unknown;
  readonly responseBody?: unknown;
}

/** Longest path (with query string) and user agent kept; longer ones are cut. */
export const MAX_LOGGED_PATH_LENGTH = 2048;
export const MAX_LOGGED_USER_AGENT_LENGTH = 512;

const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;
// Both drivers take JSON as text cast to jsonb: node-postgres would send an array as a
// PostgreSQL array, and a bare string would be stored as a JSON string twice quoted.
const jsonb = (value: unknown) =>
  value === null ? null : sql<unknown>`cast(${JSON.stringify(value)}::text as jsonb)`;

/**
 * Keeps one SCIM request in the tenant's log, redacting passwords and tokens
 * ({@link redactScimBody}) and capping each body at {@link MAX_LOGGED_BODY_BYTES}. Headers are
 * never stored.
 *
 * @example
 * await recordScimRequest(db, tenant.id, { occurredAt: new Date(), requestId, method: 'POST',
 *   path: '/scim/v2/acme/Users', status: 409, durationMs: 12, requestBody, responseBody });
 */
export async function recordScimRequest(
  db: Db,
  tenantId: string,
  record: ScimRequestRecord,
): Promise<void> {
  const tokenId = record.tokenId && isUuid(record.tokenId) ? record.tokenId : null;
  await db
    .insertInto('scim_request_log')
    .values({
      tenant_id: tenantId,
      occurred_at: record.occurredAt,
      request_id: cut(record.requestId, 128),
      method: cut(record.method, 16),
      path: cut(redactText(record.path), MAX_LOGGED_PATH_LENGTH),
      status: record.status,
      duration_ms: Math.max(0, Math.round(record.durationMs)),
      token_id: tokenId,
      user_agent: record.userAgent
        ? cut(redactText(record.userAgent), MAX_LOGGED_USER_AGENT_LENGTH)
        : null,
      request_body: jsonb(bodyForLog(record.requestBody)),
      response_body: jsonb(bodyForLog(record.responseBody)),
    })
    .execute();
}

/**
 * A status class (`4xx`) or one status (`404`, as a number or text). Text comes from operators
 * (the CLI, the admin API), so it is checked at run time by {@link parseStatusFilter}.
 */
export type ScimStatusFilter = string | number;

export interface ScimRequestLogQuery {
  /** Only requests at or after this instant. */
  readonly since?: Date;
  /** Only answers of this class (`4xx`) or this exact status (`429`). */
  readonly status?: ScimStatusFilter;
  /** At most this many (default {@link DEFAULT_SCIM_LOG_ENTRIES}, at most {@link MAX_SCIM_LOG_ENTRIES}). */
  readonly limit?: number;
}

export const DEFAULT_SCIM_LOG_ENTRIES = 100;
/** Largest listing: with bodies of up to 64 KiB each, a page stays within tens of MiB. */
export const MAX_SCIM_LOG_ENTRIES = 500;

/** `4xx` → 400..499, `404` → 404..404; anything else is refused. */
export function parseStatusFilter(filter: ScimStatusFilter): readonly [number, number] {
  const text = String(filter).trim().toLowerCase();
  const statusClass = /^([1-5])xx$/.exec(text);
  if (statusClass) {
    const base = Number(statusClass[1]) * 100;
    return [base, base + 99];
  }
  if (/^[1-5]\d\d$/.test(text)) return [Number(text), Number(text)];
  throw invalid(`status must be a class like 4xx or a status like 404, got "${String(filter)}"`, {
    field: 'status',
  });
}

/**
 * The tenant's newest logged SCIM requests matching the query, listed oldest first (like
 * `tail`, and like the audit trail).
 */
export async function listScimRequests(
  db: Db,
  tenantId: string,
  query: ScimRequestLogQuery = {},
): Promise<ScimRequestLogEntry[]> {
  let q = db.selectFrom('scim_request_log').selectAll().where('tenant_id', '=', tenantId);
  if (query.since) q = q.where('occurred_at', '>=', query.since);
  if (query.status !== undefined) {
    const [low, high] = parseStatusFilter(query.status);
    q = q.where('status', '>=', low).where('status', '<=', high);
  }
  const limit = clampLimit(query.limit, DEFAULT_SCIM_LOG_ENTRIES, MAX_SCIM_LOG_ENTRIES);
  const newestFirst = await q
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return newestFirst.reverse().map(toEntry);
}

/** Rows deleted per statement when pruning, and statements per run, so one run stays short. */
export const SCIM_LOG_PRUNE_BATCH_SIZE = 5_000;
export const SCIM_LOG_PRUNE_MAX_BATCHES = 100;

export interface ScimLogPruneOptions {
  /** Entries older than this many days go; must be at least 1. */
  readonly retentionDays: number;
  readonly batchSize?: number;
  readonly maxBatches?: number;
  /** Called after each batch with the running total (for progress lines in the log). */
  readonly onBatch?: (deletedSoFar: number) => void;
}

export interface ScimLogPruneSummary {
  readonly deleted: number;
  /** True when the run stopped at maxBatches with old entries left for the next run. */
  readonly more: boolean;
}

/**
 * Deletes log entries older than the retention, oldest first, in batches of `batchSize` and at
 * most `maxBatches` of them per call. Safe on several instances at once (SKIP LOCKED).
 */
export async function pruneScimRequestLog(
  db: Db,
  clock: Clock,
  options: ScimLogPruneOptions,
): Promise<ScimLogPruneSummary> {
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1)
    throw invalid('retentionDays must be a whole number of at least 1', {
      field: 'retentionDays',
    });
  const cutoff = new Date(clock.now().getTime() - options.retentionDays * 86_400_000);
  const batchSize = clampLimit(options.batchSize, SCIM_LOG_PRUNE_BATCH_SIZE, 100_000);
  const maxBatches = clampLimit(options.maxBatches, SCIM_LOG_PRUNE_MAX_BATCHES, 100_000);
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const result = await db
      .deleteFrom('scim_request_log')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('scim_request_log')
          .select('id')
          .where('occurred_at', '<', cutoff)
          .orderBy('occurred_at')
          .limit(batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count > 0) options.onBatch?.(deleted);
    if (count < batchSize) return { deleted, more: false };
  }
  return { deleted, more: true };
}

function toEntry(row: Selectable<ScimRequestLogTable>): ScimRequestLogEntry {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    occurredAt: row.occurred_at,
    requestId: row.request_id,
    method: row.method,
    path: row.path,
    status: row.status,
    durationMs: row.duration_ms,
    tokenId: row.token_id,
    userAgent: row.user_agent,
    requestBody: row.request_body,
    responseBody: row.response_body,
  };
}
