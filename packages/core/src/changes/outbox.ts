import { sql } from 'kysely';
import type { Db, Tx } from '../db/transaction.js';

/** The LISTEN/NOTIFY channel a commit with changes notifies; the payload is the tenant id. */
export const CHANGES_CHANNEL = 'roster_changes';

/** What an outbox row is about: a user, a group, or a sign-in session. */
export type ChangeEntityType = 'user' | 'group' | 'session';

export interface Change {
  /** `user.created`, `user.adopted`, `user.deactivated`, … */
  readonly kind: string;
  readonly entityType: ChangeEntityType;
  readonly entityId: string;
  readonly payload?: Record<string, unknown>;
}

/**
 * Appends a change for consumers, in the writer's transaction. The per-tenant sequence number
 * comes from the tenant row, whose lock is held from here to commit: within a tenant, sequence
 * order is commit order, so a reader resuming after seq N never misses one. Call it last in the
 * transaction, to hold that lock for as short a time as possible.
 */
export async function appendChange(tx: Tx, tenantId: string, change: Change): Promise<number> {
  const [seq] = await appendChanges(tx, tenantId, [change]);
  if (seq === undefined) throw new Error(`tenant ${tenantId} does not exist`);
  return seq;
}

/**
 * Appends several changes in one round trip, in the order given (ending N sessions, a member
 * change split into several rows): their seqs are consecutive. Nothing to append costs nothing.
 */
export async function appendChanges(
  tx: Tx,
  tenantId: string,
  changes: readonly Change[],
): Promise<number[]> {
  if (changes.length === 0) return [];
  const rows = changes.map((change) => ({
    kind: change.kind,
    entityType: change.entityType,
    entityId: change.entityId,
    payload: change.payload ?? {},
  }));
  // One statement: the tenant row's counter is bumped by N (and locked), the rows inserted with
  // the N seqs below it, and a notification queued. PostgreSQL delivers NOTIFY only at commit (and
  // drops it on rollback), so a woken feed always finds the rows; identical ones are folded.
  const { rows: appended } = await sql<{ seq: number }>`
    with next as (
      update tenants set outbox_seq = outbox_seq + ${rows.length}
      where id = ${tenantId} returning outbox_seq
    ), appended as (
      insert into change_outbox (tenant_id, seq, kind, entity_type, entity_id, payload)
      select ${tenantId}, next.outbox_seq - ${rows.length} + entry.ord, entry.item->>'kind',
        entry.item->>'entityType', (entry.item->>'entityId')::uuid, entry.item->'payload'
      from next, jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality
        as entry(item, ord)
      returning tenant_id, seq
    )
    select seq, pg_notify(${CHANGES_CHANNEL}, tenant_id::text) from appended order by seq`.execute(
    tx,
  );
  if (appended.length !== rows.length) throw new Error(`tenant ${tenantId} does not exist`);
  return appended.map((row) => Number(row.seq));
}

/** The entity type of a stored row (`user` for anything older or unknown). */
function changeEntityType(stored: string): ChangeEntityType {
  return stored === 'group' || stored === 'session' ? stored : 'user';
}

/** A change as stored: its position in the tenant's sequence and what it says. */
export interface StoredChange extends Change {
  readonly seq: number;
  readonly occurredAt: Date;
  readonly payload: Record<string, unknown>;
}

/**
 * Up to `limit` of the tenant's changes after `afterSeq`, in sequence order; only those of
 * `kinds` when given.
 */
export async function readChangesAfter(
  db: Db,
  tenantId: string,
  afterSeq: number,
  limit: number,
  kinds?: readonly string[],
): Promise<StoredChange[]> {
  let query = db
    .selectFrom('change_outbox')
    .select(['seq', 'occurred_at', 'kind', 'entity_type', 'entity_id', 'payload'])
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq);
  if (kinds) query = query.where('kind', 'in', kinds);
  const rows = await query.orderBy('seq').limit(limit).execute();
  return rows.map((row) => ({
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    kind: row.kind,
    entityType: changeEntityType(row.entity_type),
    entityId: row.entity_id,
    payload: row.payload,
  }));
}

/** The sequence number of the tenant's latest change (0 before the first). */
export async function latestChangeSeq(db: Db, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select('outbox_seq')
    .where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.outbox_seq);
}

/**
 * Forgets what a purged user's outbox rows said about the person (their events then name the
 * user by id only, and keep only why it changed), as the audit trail forgets it; in the purge's
 * transaction.
 */
export async function redactChangesOfPurgedUser(
  tx: Tx,
  tenantId: string,
  userId: string,
): Promise<void> {
  await sql`
    update change_outbox
    set payload = jsonb_strip_nulls(
      jsonb_build_object('redacted', 'user purged', 'reason', payload -> 'reason'))
    where tenant_id = ${tenantId} and entity_id = ${userId} and entity_type = 'user'`.execute(tx);
}
