import type { Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { pruneDeliveries } from '../outbound/deliveries.js';
import { pruneScimRequestLog } from '../scim-log/scim-request-log.repository.js';
import { pruneProviderState } from '../oidc/app-sessions.js';
import { pruneSamlState } from '../saml/saml-state.js';
import { pruneWebhookAttempts } from '../webhooks/webhook.repository.js';
import { deactivateDormantUsers } from './cleanup.js';
import { purgeExpiredUsers } from './purge.js';

export interface MaintenanceOptions {
  /** SCIM_LOG_RETENTION_DAYS: prune SCIM request log entries older than this; 0 = no pruning. */
  readonly scimLogRetentionDays?: number;
}

/**
 * Runs cleanup (rule 6) then purge (rules 5 and 6), then prunes finished outbound deliveries,
 * old webhook attempt log rows and the SCIM request log, every
 * `intervalMs`, starting one interval after the call. Safe on every instance at once: each
 * piece of work is taken with SKIP LOCKED.
 *
 * @returns a function that stops the schedule and waits for a run in progress.
 */
export function scheduleMaintenance(
  db: Db,
  clock: Clock,
  logger: Logger,
  intervalMs: number,
  options: MaintenanceOptions = {},
): () => Promise<void> {
  const retentionDays = options.scimLogRetentionDays ?? 0;
  let running: Promise<void> | undefined;
  const run = async () => {
    try {
      const { deactivated } = await deactivateDormantUsers(db, clock);
      const { purged } = await purgeExpiredUsers(db, clock);
      // Expired AuthnRequest ids, assertion ids and sessions: nothing reads them again.
      await pruneSamlState(db, clock.now());
      // Expired OpenID Provider state (codes, tokens, interactions) and rows of ended sessions.
      await pruneProviderState(db, clock.now());
      if (deactivated > 0 || purged > 0)
        logger.info({ deactivated, purged }, 'jobs.maintenance.done');
    } catch (error) {
      logger.error({ err: error }, 'jobs.maintenance.failed');
    }
    // Separate from the rules' work: a failure of one never skips the other.
    try {
      const { deleted } = await pruneDeliveries(db, clock);
      if (deleted > 0) logger.info({ deleted }, 'jobs.delivery_prune.done');
    } catch (error) {
      logger.error({ err: error }, 'jobs.delivery_prune.failed');
    }
    try {
      const { deleted } = await pruneWebhookAttempts(db, clock);
      if (deleted > 0) logger.info({ deleted }, 'jobs.webhook_attempt_prune.done');
    } catch (error) {
      logger.error({ err: error }, 'jobs.webhook_attempt_prune.failed');
    }
    if (retentionDays > 0) {
      try {
        const { deleted, more } = await pruneScimRequestLog(db, clock, {
          retentionDays,
          onBatch: (deletedSoFar) =>
            logger.debug({ deleted: deletedSoFar }, 'jobs.scim_log_prune.progress'),
        });
        if (deleted > 0) logger.info({ deleted, more, retentionDays }, 'jobs.scim_log_prune.done');
      } catch (error) {
        logger.error({ err: error }, 'jobs.scim_log_prune.failed');
      }
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
