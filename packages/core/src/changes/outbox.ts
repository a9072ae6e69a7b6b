import { sql } from 'kysely';
import type { Db, Tx } from '../db/transaction.js';

/** The LISTEN/NOTIFY channel a commit with changes notifies; the payload is the tenant id. */
export const CHANGES_CHANNEL = 'roster_changes';

export interface Change {
  /** `user.created`, `user.adopted`, `user.deactivated`, … */
  readonly kind: string;
  readonly entityType: 'user' | 'group';
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
  // One round trip: the tenant row's counter is bumped (and locked), the row inserted, and a
  // notification queued together. PostgreSQL delivers NOTIFY only at commit (and drops it on
  // rollback), so a woken feed always finds the row; several in one transaction are folded.
  const { rows } = await sql<{ seq: number }>`
    with next as (
      update tenants set outbox_seq = outbox_seq + 1 where id = ${tenantId} returning outbox_seq
    ), appended as (
      insert into change_outbox (tenant_id, seq, kind, entity_type, entity_id, payload)
      select ${tenantId}, next.outbox_seq, ${change.kind}, ${change.entityType}, ${change.entityId},
        ${JSON.stringify(change.payload ?? {})}::jsonb
      from next
      returning tenant_id, seq
    )
    select seq, pg_notify(${CHANGES_CHANNEL}, tenant_id::text) from appended`.execute(tx);
  const seq = rows[0]?.seq;
  if (seq === undefined) throw new Error(`tenant ${tenantId} does not exist`);
  return Number(seq);
}

/** A change as stored: its position in the tenant's sequence and what it says. */
export interface StoredChange extends Change {
  readonly seq: number;
  readonly occurredAt: Date;
  readonly payload: Record<string, unknown>;
}

/** Up to `limit` of the tenant's changes after `afterSeq`, in sequence order. */
export async function readChangesAfter(
  db: Db,
  tenantId: string,
  afterSeq: number,
  limit: number,
): Promise<StoredChange[]> {
  const rows = await db
    .selectFrom('change_outbox')
    .select(['seq', 'occurred_at', 'kind', 'entity_type', 'entity_id', 'payload'])
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    seq: Number(row.seq),
    occurredAt: row.occurred_at,
    kind: row.kind,
    entityType: row.entity_type === 'group' ? 'group' : 'user',
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
