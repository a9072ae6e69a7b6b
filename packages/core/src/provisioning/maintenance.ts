import type { Clock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import {
  DEFAULT_EVENTS_RETENTION_DAYS,
  pruneEvents,
  pruneOrphanDirectoryCounts,
} from '../events/retention.js';
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
  /** EVENTS_RETENTION_DAYS: prune events older than this (kept while an endpoint owes them). */
  readonly eventsRetentionDays?: number;
}

/**
 * The retention of events: outbox rows past the retention (except those an enabled webhook
 * endpoint still owes), and the counters of deleted tenants. Returns what each step deleted.
 */
export async function runEventsRetention(
  db: Db,
  clock: Clock,
  retentionDays: number,
  onBatch?: (deletedSoFar: number) => void,
): Promise<{ events: number; tenants: number; directoryCounts: number }> {
  const events = await pruneEvents(db, clock, { retentionDays, ...(onBatch ? { onBatch } : {}) });
  const counts = await pruneOrphanDirectoryCounts(db);
  return { events: events.deleted, tenants: events.tenants, directoryCounts: counts.deleted };
}

/**
 * Runs cleanup (rule 6) then purge (rules 5 and 6), then prunes finished outbound deliveries,
 * old webhook attempt log rows, the SCIM request log and events past their retention, every
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
  const eventsRetentionDays = options.eventsRetentionDays ?? DEFAULT_EVENTS_RETENTION_DAYS;
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
    try {
      const summary = await runEventsRetention(db, clock, eventsRetentionDays, (deleted) =>
        logger.debug({ deleted }, 'jobs.events_prune.progress'),
      );
      if (Object.values(summary).some((count) => count > 0))
        logger.info({ ...summary, retentionDays: eventsRetentionDays }, 'jobs.events_prune.done');
    } catch (error) {
      logger.error({ err: error }, 'jobs.events_prune.failed');
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
