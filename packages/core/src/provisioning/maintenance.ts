import type { Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { pruneSamlState } from '../saml/saml-state.js';
import { deactivateDormantUsers } from './cleanup.js';
import { purgeExpiredUsers } from './purge.js';

/**
 * Runs cleanup (rule 6) then purge (rules 5 and 6) every `intervalMs`, starting one interval
 * after the call. Safe on every instance at once: each piece of work is taken with SKIP LOCKED.
 *
 * @returns a function that stops the schedule and waits for a run in progress.
 */
export function scheduleMaintenance(
  db: Db,
  clock: Clock,
  logger: Logger,
  intervalMs: number,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = async () => {
    try {
      const { deactivated } = await deactivateDormantUsers(db, clock);
      const { purged } = await purgeExpiredUsers(db, clock);
      // Expired AuthnRequest ids, assertion ids and sessions (issue 5): nothing reads them again.
      await pruneSamlState(db, clock.now());
      if (deactivated > 0 || purged > 0)
        logger.info({ deactivated, purged }, 'jobs.maintenance.done');
    } catch (error) {
      logger.error({ err: error }, 'jobs.maintenance.failed');
    }
  };
  const timer = setInterval(() => {
    if (!running) running = run().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
