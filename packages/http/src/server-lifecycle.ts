import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '@roster/core';
import type { Lifecycle } from './lifecycle.js';

/** Starts listening; resolves once the port is bound (port 0 picks a free one). */
export function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) =>
      error ? reject(error) : resolve(server),
    );
    server.once('error', reject);
  });
}

export function urlOf(server: Server, publicHost = 'localhost'): string {
  const address = server.address() as AddressInfo;
  return `http://${publicHost}:${address.port}`;
}

/**
 * Stops accepting connections and waits for in-flight requests; after `timeoutMs` the remaining
 * connections are cut. Resolves `true` if everything finished in time.
 */
export async function closeGracefully(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const inTime = await Promise.race([closed.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!inTime) {
    server.closeAllConnections();
    await closed;
  }
  return inTime;
}

export interface ShutdownPlan {
  readonly lifecycle: Lifecycle;
  readonly servers: readonly Server[];
  /** Runs after the servers closed (close the database, remove files). */
  readonly afterServersClosed: () => Promise<void>;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * SIGTERM/SIGINT: readiness 503, stop accepting, finish in-flight requests, close the
 * database, exit 0 (1 if requests had to be cut). A second signal exits at once.
 */
export function exitOnSignals(plan: ShutdownPlan): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      plan.logger.warn({ signal }, 'process.shutdown.forced');
      process.exit(1);
    }
    stopping = true;
    plan.logger.info({ signal }, 'process.shutdown.started');
    plan.lifecycle.startDraining();
    const results = await Promise.all(
      plan.servers.map((server) => closeGracefully(server, plan.timeoutMs)),
    );
    const clean = results.every(Boolean);
    try {
      await plan.afterServersClosed();
    } catch (error) {
      plan.logger.error({ err: error }, 'process.shutdown.cleanup_failed');
    }
    plan.logger.info({ clean }, 'process.shutdown.finished');
    process.exit(clean ? 0 : 1);
  };
  // `on`, not `once`: a second SIGTERM or Ctrl-C must reach the forced exit above, not Node's default.
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));
}
