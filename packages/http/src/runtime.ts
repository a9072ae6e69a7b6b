import {
  ConfigError,
  createLogger,
  DataDirInUseError,
  loadConfig,
  lockDataDir,
  migrateToLatest,
  openDatabase,
  outboundPolicyFrom,
  systemClock,
  type BaseConfig,
  type Clock,
  type ConfigSchema,
  type Logger,
  type OutboundPolicy,
  type RosterDatabase,
} from '@roster/core';
import { createLifecycle, type Lifecycle } from './lifecycle.js';

/** What every app's process needs before it builds its app; `config` is the app's own. */
export interface Runtime<C extends BaseConfig = BaseConfig> {
  readonly config: C;
  readonly logger: Logger;
  readonly database: RosterDatabase;
  readonly clock: Clock;
  readonly lifecycle: Lifecycle;
  /** Which addresses calls out may reach (ROSTER_OUTBOUND_ALLOW_HOSTS). */
  readonly outboundPolicy: OutboundPolicy;
  /** Closes the database and releases the data folder (embedded engine). */
  readonly shutdown: () => Promise<void>;
}

/**
 * Start-up common to every entry point: check the configuration against the app's schema (a bad
 * value stops the start with a message naming it), open the database and bring its schema up
 * to date.
 */
export async function startRuntime<C extends BaseConfig>(
  name: string,
  schema: ConfigSchema<C>,
): Promise<Runtime<C>> {
  let config: C;
  try {
    config = loadConfig(schema);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`roster ${name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let releaseDataDir = () => Promise.resolve();
  try {
    if (config.database.kind === 'pglite') releaseDataDir = await lockDataDir(config.dataDir);
    const database = await openDatabase(config.database, { logger });
    await migrateToLatest(database, logger);
    const shutdown = async () => {
      await database.close();
      await releaseDataDir();
    };
    return {
      config,
      logger,
      database,
      clock: systemClock,
      lifecycle: createLifecycle(),
      outboundPolicy: outboundPolicyFrom(config.outboundAllowHosts),
      shutdown,
    };
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      process.stderr.write(`roster ${name}: ${error.message}\n`);
      process.exit(1);
    }
    await releaseDataDir();
    const where =
      config.database.kind === 'postgres'
        ? 'PostgreSQL (DATABASE_URL)'
        : `the embedded database in ${config.dataDir}`;
    logger.fatal({ err: error }, 'process.start_failed');
    process.stderr.write(
      `roster ${name}: could not open ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
}
