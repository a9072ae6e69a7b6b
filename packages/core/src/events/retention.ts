// Retention of events: outbox rows older than EVENTS_RETENTION_DAYS are deleted by the
// maintenance job, tenant by tenant, oldest first, in small statements of their own. The pruned
// prefix of each tenant's sequence is recorded first (events_pruned), so a reader asking for what
// follows a pruned seq is refused (`Gone`) instead of silently skipping what it never saw.
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';

/** EVENTS_RETENTION_DAYS when unset: events are kept 30 days. */
export const DEFAULT_EVENTS_RETENTION_DAYS = 30;
/** The longest retention EVENTS_RETENTION_DAYS accepts (10 years). */
export const MAX_EVENTS_RETENTION_DAYS = 3_650;
/**
 * Outbox rows one DELETE removes: each statement is its own short transaction, so a writer never
 * waits on the pruner (writers only append new seqs; the pruner only deletes old ones).
 */
export const EVENTS_PRUNE_BATCH_SIZE = 1_000;
/** Most DELETE statements one maintenance run makes (then the next run goes on). */
export const EVENTS_PRUNE_MAX_BATCHES = 1_000;

const DAY_MS = 86_400_000;

/** What one pruning run did. */
export interface EventsPruneSummary {
  /** Outbox rows deleted, over every tenant. */
  readonly deleted: number;
  /** Tenants whose pruned seq moved. */
  readonly tenants: number;
  /** True when the run stopped at {@link EVENTS_PRUNE_MAX_BATCHES} with rows left to delete. */
  readonly more: boolean;
}

export interface EventsPruneOptions {
  /** Keep events this many days (at least 1). */
  readonly retentionDays: number;
  readonly batchSize?: number;
  readonly maxBatches?: number;
  /** Called after each DELETE with the rows deleted so far (progress for long runs). */
  readonly onBatch?: (deletedSoFar: number) => void;
}

/**
 * The seq up to which the tenant's events may be pruned: the last one before the first event
 * still inside the retention (or the newest, when every event is older), and never past what an
 * enabled webhook endpoint still has to deliver.
 */
async function pruneBoundary(db: Db, tenantId: string, cutoff: Date): Promise<number> {
  const { rows } = await sql<{ boundary: string | number | null }>`
    select least(
      coalesce(
        (select seq - 1 from change_outbox
          where tenant_id = ${tenantId} and occurred_at >= ${cutoff} order by seq limit 1),
        (select max(seq) from change_outbox where tenant_id = ${tenantId}),
        0
      ),
      ${owedBoundarySql(tenantId)}
    ) as boundary`.execute(db);
  return Number(rows[0]?.boundary ?? 0);
}

/** The lowest seq an enabled endpoint delivered up to (events after it are still owed). */
function owedBoundarySql(tenantId: string) {
  // Without endpoints nothing is owed: least() ignores a null.
  return sql`(select min(delivered_seq) from webhook_endpoints
    where tenant_id = ${tenantId} and state = 'enabled')`;
}

/** The seq up to which the tenant's events were pruned (0: none were). */
export async function eventsPrunedSeq(db: Db, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('events_pruned')
    .select('pruned_seq')
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return Number(row?.pruned_seq ?? 0);
}

/**
 * Deletes the events older than the retention, tenant by tenant, except those an enabled webhook
 * endpoint of the tenant has not delivered yet. Each tenant's pruned seq is recorded (and
 * committed) before its rows go, then the rows are deleted in seq ranges of `batchSize`, one
 * statement each. Safe on every instance at once: deletes of rows already gone delete nothing.
 *
 * @example
 * const { deleted } = await pruneEvents(db, clock, { retentionDays: 30 });
 */
export async function pruneEvents(
  db: Db,
  clock: Clock,
  options: EventsPruneOptions,
): Promise<EventsPruneSummary> {
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1)
    throw invalid('retentionDays must be a whole number of at least 1', {
      field: 'retentionDays',
    });
  const cutoff = new Date(clock.now().getTime() - options.retentionDays * DAY_MS);
  const batchSize = options.batchSize ?? EVENTS_PRUNE_BATCH_SIZE;
  let batchesLeft = options.maxBatches ?? EVENTS_PRUNE_MAX_BATCHES;
  let deleted = 0;
  let tenants = 0;
  const tenantIds = await db.selectFrom('tenants').select('id').orderBy('id').execute();
  for (const { id: tenantId } of tenantIds) {
    const boundary = await pruneBoundary(db, tenantId, cutoff);
    if (boundary <= 0) continue;
    // Recorded first: from this commit on, readers asking for what follows an earlier seq are
    // refused, so none of them reads a range half deleted.
    const moved = await db
      .insertInto('events_pruned')
      .values({ tenant_id: tenantId, pruned_seq: boundary, pruned_at: clock.now() })
      .onConflict((conflict) =>
        conflict
          .column('tenant_id')
          .doUpdateSet({ pruned_seq: boundary, pruned_at: clock.now() })
          .where('events_pruned.pruned_seq', '<', boundary),
      )
      .executeTakeFirst();
    if (Number(moved.numInsertedOrUpdatedRows ?? 0) > 0) tenants++;
    // From the oldest row left (a run stopped early leaves some): seqs are dense, so a range of
    // `batchSize` seqs is at most that many rows.
    const oldest = await db
      .selectFrom('change_outbox')
      .select((eb) => eb.fn.min('seq').as('seq'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    let from = Number(oldest?.seq ?? boundary + 1) - 1;
    while (from < boundary) {
      if (batchesLeft-- <= 0) return { deleted, tenants, more: true };
      const to = Math.min(from + batchSize, boundary);
      const result = await db
        .deleteFrom('change_outbox')
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', from)
        .where('seq', '<=', to)
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
      options.onBatch?.(deleted);
      from = to;
    }
  }
  return { deleted, tenants, more: false };
}

/**
 * Deletes the per-tenant counters of tenants that no longer exist: a tenant delete cascades to
 * its users and groups, whose triggers then write counter rows for the tenant that is gone
 * (the counters have no foreign key for that reason).
 */
export async function pruneOrphanDirectoryCounts(db: Db): Promise<{ deleted: number }> {
  const result = await db
    .deleteFrom('directory_counts')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('tenants')
            .select('tenants.id')
            .whereRef('tenants.id', '=', 'directory_counts.tenant_id'),
        ),
      ),
    )
    .executeTakeFirst();
  return { deleted: Number(result.numDeletedRows) };
}
