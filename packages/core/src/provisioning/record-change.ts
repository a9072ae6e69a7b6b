import { recordAudit } from '../audit/audit.repository.js';
import { appendChange } from '../changes/outbox.js';
import type { ChangeContext } from '../context/actor.js';
import type { Tx } from '../db/transaction.js';
import { userChangeKind, userChangePayload } from '../events/payloads.js';
import type { User } from '../users/user.js';

const AUDITED_FIELDS = [
  'userName',
  'externalId',
  'displayName',
  'givenName',
  'familyName',
  'emails',
  'state',
  'inactiveReason',
  'managedBy',
  'purgeAfter',
] as const;

/** What changed between two versions of a user, field by field (for the audit trail). */
export function diffUsers(
  before: User | undefined,
  after: User | undefined,
): Record<string, { before: unknown; after: unknown }> {
  const changes: Record<string, { before: unknown; after: unknown }> = {};
  for (const field of AUDITED_FIELDS) {
    const was = before?.[field] ?? null;
    const now = after?.[field] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(now)) changes[field] = { before: was, after: now };
  }
  return changes;
}

/**
 * Rule 7: every change writes its audit event and its outbox row in the transaction that makes it.
 * The outbox row carries the user after the change and what changed (events/payloads.ts).
 */
export async function recordUserChange(
  tx: Tx,
  context: ChangeContext,
  action: string,
  before: User | undefined,
  after: User,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await recordAudit(tx, after.tenantId, context, {
    action,
    target: { type: 'user', id: after.id },
    changes: { ...diffUsers(before, after), ...extra },
  });
  const payload = userChangePayload(action, before, after);
  await appendChange(tx, after.tenantId, {
    kind: userChangeKind(action, payload),
    entityType: 'user',
    entityId: after.id,
    payload,
  });
}
