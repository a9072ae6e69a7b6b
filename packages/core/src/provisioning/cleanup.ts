// Rule 6: per tenant, JIT users never adopted by SCIM who have not signed in for N days are
// deactivated (reason `dormant`, sessions ended) and given a purge date after the grace period.
import type { Clock } from '../clock.js';
import { SYSTEM, type ChangeContext } from '../context/actor.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { dormantState, isDormant } from '../reconciliation/reconcile.js';
import { lockDormantCandidates, lockUserById, updateUser } from '../users/user.store.js';
import { endUserSessions } from '../sessions/session.js';
import { recordUserChange } from './record-change.js';

export interface CleanupSummary {
  readonly deactivated: number;
}

/** Deactivates dormant JIT users in every tenant that switched cleanup on (or in one tenant). */
export async function deactivateDormantUsers(
  db: Db,
  clock: Clock,
  options: { tenantId?: string; context?: ChangeContext; batchSize?: number } = {},
): Promise<CleanupSummary> {
  const now = clock.now();
  const context = options.context ?? { actor: SYSTEM };
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, 10_000));
  let deactivated = 0;
  for (;;) {
    const batch = await inTransaction(db, async (tx) => {
      const rows = await lockDormantCandidates(tx, now, options.tenantId, batchSize);
      let done = 0;
      for (const row of rows) {
        const user = await lockUserById(tx, row.tenantId, row.id);
        // Re-checked through the rule itself: a sign-in may have committed since the scan.
        if (!user || row.cleanupAfterDays === null || !isDormant(user, row.cleanupAfterDays, now))
          continue;
        const after = await updateUser(
          tx,
          user,
          { state: dormantState(now, row.gracePeriodDays) },
          now,
        );
        await endUserSessions(tx, user.tenantId, user.id);
        await recordUserChange(tx, context, 'user.deactivated', user, after, { reason: 'dormant' });
        done += 1;
      }
      return { scanned: rows.length, done };
    });
    deactivated += batch.done;
    if (batch.scanned < batchSize) return { deactivated };
  }
}
