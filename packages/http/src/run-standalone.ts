import type { Express } from 'express';
import type { BaseConfig, ConfigSchema } from '@roster/core';
import { startRuntime, type Runtime } from './runtime.js';
import { exitOnSignals, listen } from './server-lifecycle.js';

export interface Placement {
  readonly app: Express;
  readonly host: string;
  readonly port: number;
  /** Background jobs the process runs; called at shutdown, after the server closed. */
  readonly stopJobs?: () => Promise<void>;
}

/**
 * The whole life of a one-app process (`node apps/<app>/dist/main.js`): start-up checks, listen,
 * and graceful shutdown on SIGTERM/SIGINT. Any number of such processes may share one PostgreSQL.
 */
export async function runStandalone<C extends BaseConfig>(
  name: string,
  schema: ConfigSchema<C>,
  place: (runtime: Runtime<C>) => Placement,
): Promise<void> {
  const runtime = await startRuntime(name, schema);
  const { app, host, port, stopJobs } = place(runtime);
  const server = await listen(app, host, port);
  runtime.logger.info({ host, port, database: runtime.database.engine }, `${name}.listening`);
  exitOnSignals({
    lifecycle: runtime.lifecycle,
    servers: [server],
    afterServersClosed: async () => {
      await stopJobs?.();
      await runtime.shutdown();
    },
    timeoutMs: runtime.config.shutdownTimeoutMs,
    logger: runtime.logger,
  });
}
