// Rule 5 and 6: purge users whose grace period is over. Safe with any number of job runners:
// each batch locks its rows with SKIP LOCKED, so every user is purged by exactly one of them.
import { recordAudit, redactAuditOfPurgedUser } from '../audit/audit.repository.js';
import { appendChange, redactChangesOfPurgedUser } from '../changes/outbox.js';
import type { Clock } from '../clock.js';
import { SYSTEM, type ChangeContext } from '../context/actor.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { userPurgedPayload } from '../events/payloads.js';
import type { User } from '../users/user.js';
import { countUsersDueForPurge, deleteUser, lockUsersDueForPurge } from '../users/user.store.js';

/**
 * Removes a locked user for good: its links, sessions, emails and memberships go with it (foreign
 * keys), and the audit trail and the outbox keep their rows but lose what they said about the
 * person beyond the ids.
 */
export async function purgeLockedUser(
  tx: Tx,
  user: Pick<User, 'id' | 'tenantId'>,
  context: ChangeContext,
): Promise<void> {
  await deleteUser(tx, user);
  await redactAuditOfPurgedUser(tx, user.tenantId, user.id);
  await redactChangesOfPurgedUser(tx, user.tenantId, user.id);
  await recordAudit(tx, user.tenantId, context, {
    action: 'user.purged',
    target: { type: 'user', id: user.id },
  });
  await appendChange(tx, user.tenantId, {
    kind: 'user.purged',
    entityType: 'user',
    entityId: user.id,
    payload: userPurgedPayload(user.id),
  });
}

export interface PurgeOptions {
  /** Only this tenant (by id); all tenants otherwise. */
  readonly tenantId?: string;
  /** Count what would be purged; change nothing. */
  readonly dryRun?: boolean;
  /** Users per transaction. */
  readonly batchSize?: number;
  /** Stop after about this many users (a whole batch at a time); the rest is `remaining`. */
  readonly maxUsers?: number;
  /** Called after every batch, for a progress display. */
  readonly onProgress?: (progress: { purged: number }) => void;
  readonly context?: ChangeContext;
}

export interface PurgeSummary {
  /** Users purged (with dryRun: users that would be). */
  readonly purged: number;
  readonly dryRun: boolean;
  /** Users still due (after a run cut short by maxUsers); 0 when done. */
  readonly remaining: number;
}

/**
 * Purges every user whose purge date has passed (deprovisioned, or deactivated as dormant): the
 * users `isPurgeDue` (reconcile.ts) holds for, selected in bulk by the same predicate in SQL.
 *
 * @example
 * const { purged } = await purgeExpiredUsers(db, systemClock, { onProgress: ({ purged }) => log(purged) });
 */
export async function purgeExpiredUsers(
  db: Db,
  clock: Clock,
  options: PurgeOptions = {},
): Promise<PurgeSummary> {
  const now = clock.now();
  const context = options.context ?? { actor: SYSTEM };
  const countDue = () => countUsersDueForPurge(db, now, options.tenantId);
  if (options.dryRun) return { purged: await countDue(), dryRun: true, remaining: 0 };
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, 10_000));
  let purged = 0;
  for (;;) {
    const batch = await inTransaction(db, async (tx) => {
      const victims = await lockUsersDueForPurge(tx, now, options.tenantId, batchSize);
      for (const victim of victims) await purgeLockedUser(tx, victim, context);
      return victims.length;
    });
    purged += batch;
    if (batch > 0) options.onProgress?.({ purged });
    if (batch < batchSize) return { purged, dryRun: false, remaining: 0 };
    if (options.maxUsers !== undefined && purged >= options.maxUsers)
      return { purged, dryRun: false, remaining: await countDue() };
  }
}
