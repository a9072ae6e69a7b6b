// Rule 6: per tenant, JIT users never adopted by SCIM who have not signed in for N days are
// deactivated (reason `dormant`, sessions ended) and given a purge date after the grace period.
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { SYSTEM, type ChangeContext } from '../context/actor.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { isDormant, purgeDate } from '../reconciliation/reconcile.js';
import { lockUserById, updateUser, userState } from '../users/user.store.js';
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
      let candidates = tx
        .selectFrom('users')
        .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
        .select([
          'users.id',
          'users.tenant_id',
          'tenants.cleanup_after_days',
          'tenants.grace_period_days',
        ])
        .where('tenants.cleanup_after_days', 'is not', null)
        .where('users.managed_by', '=', 'jit')
        .where('users.lifecycle_state', '=', 'active')
        .where(
          sql<boolean>`coalesce(users.last_sign_in_at, users.created_at) <= ${now}::timestamptz - make_interval(days => tenants.cleanup_after_days)`,
        );
      if (options.tenantId) candidates = candidates.where('users.tenant_id', '=', options.tenantId);
      // SKIP LOCKED: several instances share the work; a user being signed in right now waits.
      const rows = await candidates
        .orderBy('users.id')
        .limit(batchSize)
        .forUpdate('users')
        .skipLocked()
        .execute();
      let done = 0;
      for (const row of rows) {
        const user = await lockUserById(tx, row.tenant_id, row.id);
        // Re-checked through the rule itself: a sign-in may have committed since the scan.
        if (
          !user ||
          row.cleanup_after_days === null ||
          !isDormant(user, row.cleanup_after_days, now)
        )
          continue;
        const after = await updateUser(
          tx,
          user,
          {
            state: userState.inactive('dormant', purgeDate(now, row.grace_period_days)),
          },
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
