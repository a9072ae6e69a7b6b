import type { Selectable } from 'kysely';
import type { ChangeContext } from '../context/actor.js';
import type { AuditEventTable } from '../db/database.js';
import type { Db, Tx } from '../db/transaction.js';
import { clampLimit } from '../ids.js';

/** One line of the audit trail (rule 7). */
export interface AuditEvent {
  readonly id: number;
  readonly tenantId: string | null;
  readonly occurredAt: Date;
  readonly actor: { readonly type: string; readonly id: string | null };
  readonly action: string;
  readonly target: { readonly type: string | null; readonly id: string | null };
  readonly requestId: string | null;
  readonly changes: Record<string, unknown> | null;
}

export interface AuditRecord {
  readonly action: string;
  readonly target?: { readonly type: string; readonly id: string };
  readonly changes?: Record<string, unknown>;
  readonly occurredAt?: Date;
}

/**
 * Keeps a purged user's audit events but drops what they said about the person beyond the ids
 * (rule 7); call it in the transaction that deletes the user.
 */
export async function redactAuditOfPurgedUser(
  tx: Tx,
  tenantId: string,
  userId: string,
): Promise<void> {
  await tx
    .updateTable('audit_events')
    .set({ changes: { redacted: 'user purged' } })
    .where('tenant_id', '=', tenantId)
    .where('target_id', '=', userId)
    .where('changes', 'is not', null)
    .execute();
}

/** Writes one audit event; call it inside the transaction that makes the change. */
export async function recordAudit(
  tx: Tx,
  tenantId: string | null,
  context: ChangeContext,
  record: AuditRecord,
): Promise<void> {
  await tx
    .insertInto('audit_events')
    .values({
      tenant_id: tenantId,
      actor_type: context.actor.type,
      actor_id: context.actor.id ?? null,
      action: record.action,
      target_type: record.target?.type ?? null,
      target_id: record.target?.id ?? null,
      request_id: context.requestId ?? null,
      changes: record.changes ?? null,
      ...(record.occurredAt ? { occurred_at: record.occurredAt } : {}),
    })
    .execute();
}

export interface AuditQuery {
  /** Only events at or after this instant. */
  readonly since?: Date;
  /** Only events about this target id (a user id, say). */
  readonly targetId?: string;
  /** At most this many (default 1000, at most 10000): the newest ones, listed oldest first. */
  readonly limit?: number;
}

export const MAX_AUDIT_EVENTS = 10_000;

/** The tenant's newest audit events, oldest first (like `tail`). */
export async function listAuditEvents(
  db: Db,
  tenantId: string,
  query: AuditQuery = {},
): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId);
  if (query.since) q = q.where('occurred_at', '>=', query.since);
  if (query.targetId) q = q.where('target_id', '=', query.targetId);
  const limit = clampLimit(query.limit, 1000, MAX_AUDIT_EVENTS);
  const newestFirst = await q
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return newestFirst.reverse().map(toAuditEvent);
}

function toAuditEvent(row: Selectable<AuditEventTable>): AuditEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    occurredAt: row.occurred_at,
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    target: { type: row.target_type, id: row.target_id },
    requestId: row.request_id,
    changes: row.changes,
  };
}
