import type { Tx } from '../db/transaction.js';

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
  const { outbox_seq: seq } = await tx
    .updateTable('tenants')
    .set((eb) => ({ outbox_seq: eb('outbox_seq', '+', 1) }))
    .where('id', '=', tenantId)
    .returning('outbox_seq')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('change_outbox')
    .values({
      tenant_id: tenantId,
      seq,
      kind: change.kind,
      entity_type: change.entityType,
      entity_id: change.entityId,
      payload: change.payload ?? {},
    })
    .execute();
  return seq;
}
