// Operator doors onto a user's lifecycle (the CLI and admin API): deactivate, and restore a
// deprovisioned user within its grace period. The same rules as SCIM's: sessions end in the
// deactivating transaction (rule 4), audit and outbox rows in the same transaction (rule 7).
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { invalid, notFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { decideOperatorDeactivation, decideOperatorRestore } from '../reconciliation/reconcile.js';
import type { User } from '../users/user.js';
import { lockUserById, updateUser } from '../users/user.store.js';
import { endUserSessions } from '../sessions/session.js';
import { recordUserChange } from './record-change.js';

async function withLockedUser(
  db: Db,
  tenantId: string,
  id: string,
  work: (user: User, tx: Tx) => Promise<User>,
): Promise<User> {
  return inTransaction(db, async (tx) => {
    const user = isUuid(id) ? await lockUserById(tx, tenantId, id) : undefined;
    if (!user) throw notFound(`user ${id} does not exist`);
    return work(user, tx);
  });
}

/** Deactivates a user by an operator's decision; a no-op for a user already out. */
export function deactivateUser(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  clock: Clock,
): Promise<User> {
  return withLockedUser(db, tenantId, id, async (user, tx) => {
    const decision = decideOperatorDeactivation(user);
    if (decision.kind !== 'change') return user;
    const after = await updateUser(tx, user, { state: decision.state }, clock.now());
    const sessionsEnded = await endUserSessions(tx, user.tenantId, user.id);
    await recordUserChange(tx, context, 'user.deactivated', user, after, {
      reason: 'operator',
      sessionsEnded,
    });
    return after;
  });
}

/**
 * Brings back a deprovisioned (or dormant) user before its purge: active again, same id, links
 * and history. A user SCIM manages keeps being managed by SCIM.
 */
export function restoreUser(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  clock: Clock,
): Promise<User> {
  return withLockedUser(db, tenantId, id, async (user, tx) => {
    const now = clock.now();
    const decision = decideOperatorRestore(user, now);
    if (decision.kind === 'unchanged') return user;
    if (decision.kind === 'refuse') throw invalid(`user ${id} is ${decision.detail}`);
    const after = await updateUser(tx, user, { state: decision.state }, now);
    await recordUserChange(tx, context, 'user.restored', user, after, { by: 'operator' });
    return after;
  });
}
