import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../config/base.config.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { PGliteDialect } from './pglite-dialect.js';

/** What a readiness probe and the metrics need to know about the connection pool. */
export interface PoolStats {
  readonly engine: 'postgres' | 'pglite';
  /** Connections open (PGlite: always 1). */
  readonly total: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
}

/** An open directory database: the kysely handle plus what the process needs to run it. */
export interface RosterDatabase {
  readonly db: Kysely<Database>;
  readonly engine: 'postgres' | 'pglite';
  /** Resolves when a trivial query succeeds; rejects otherwise (used by `/readyz`). */
  ping(timeoutMs?: number): Promise<void>;
  stats(): PoolStats;
  close(): Promise<void>;
  /** PGlite only: the whole data folder as a tarball (tests clone a migrated template from it). */
  readonly dumpDataDir?: () => Promise<Blob>;
  /**
   * LISTENs on one NOTIFY channel or several: `onNotify(payload, channel)` for each notification
   * committed by anyone. PostgreSQL: one dedicated connection (outside the pool) for all the
   * channels given, re-opened a second after it is lost, after which `onNotify(undefined)` (no
   * channel) says "some may have been missed on any of them". PGlite: the one session.
   * Resolves once listening; the returned function stops it.
   */
  listen(channels: string | readonly string[], onNotify: NotifyHandler): Promise<Unlisten>;
}

/** Called by {@link RosterDatabase.listen}; both arguments undefined after a lost connection. */
export type NotifyHandler = (payload: string | undefined, channel?: string) => void;

/** Stops a {@link RosterDatabase.listen}; safe to call twice. */
export type Unlisten = () => Promise<void>;

/** How long a lost LISTEN connection waits before it is opened again. */
export const LISTEN_RECONNECT_DELAY_MS = 1_000;

// int8 columns (audit and outbox ids, counts) stay within 2^53, and PGlite already returns them
// as numbers; make node-pg agree so both engines give the same types.
const INT8_OID = 20;
const defaultParser = pg.types.getTypeParser as (
  oid: number,
  format?: 'text' | 'binary',
) => (value: string) => unknown;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? Number : defaultParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens the database the config names: a `pg` pool on PostgreSQL, or PGlite in a folder or in
 * memory. Migrations are not run here; see {@link migrateToLatest}.
 *
 * @example
 * const database = await openDatabase({ kind: 'pglite', dataDir: '.roster/db' });
 * await migrateToLatest(database.db);
 */
export async function openDatabase(
  target: DatabaseTarget,
  options: { logger?: Logger; loadDataDir?: Blob } = {},
): Promise<RosterDatabase> {
  if (target.kind === 'postgres') return openPostgres(target.url, target.poolMax, options.logger);
  return openPGlite(target.kind === 'pglite' ? target.dataDir : undefined, options.loadDataDir);
}

/** How long close() waits for the pool's sessions to end on the server. */
const POOL_CLOSE_WAIT_MS = 5_000;

function openPostgres(url: string, poolMax: number, logger?: Logger): RosterDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    types: pgTypes,
    application_name: 'roster',
  });
  // An idle client losing its server (PostgreSQL restarted) must not crash the process:
  // the pool drops it and the next checkout reconnects.
  pool.on('error', (error) => logger?.warn({ err: error }, 'db.pool.idle_client_error'));
  // pg-pool listens for errors only on idle clients: a checked-out client (inside a transaction,
  // between statements) whose server goes away would emit an unhandled 'error' and end the
  // process. The query in progress fails on its own and is answered 503.
  // pool.end() resolves once it has asked each client to end, not once they have: close() waits
  // for the sockets, so that a closed handle has no session left on the server (a busy server
  // takes its time to end them).
  const connected = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', (error) => logger?.warn({ err: error }, 'db.pool.client_error'));
    connected.add(client);
    client.once('end', () => connected.delete(client));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    engine: 'postgres',
    ping: (timeoutMs = 2_000) => withTimeout(sql`select 1`.execute(db), timeoutMs),
    stats: () => ({
      engine: 'postgres',
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    close: async () => {
      const ended = [...connected].map(
        (client) => new Promise<void>((resolve) => client.once('end', () => resolve())),
      );
      await db.destroy();
      // Bounded: a client still checked out by a query that never returns must not hang a shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(ended),
        new Promise((resolve) => (timer = setTimeout(resolve, POOL_CLOSE_WAIT_MS))),
      ]);
      clearTimeout(timer);
    },
    listen: (channels, onNotify) =>
      listenOnPostgres(url, typeof channels === 'string' ? [channels] : channels, onNotify, logger),
  };
}

/**
 * A dedicated client for LISTEN (a pooled one would be handed to queries and lose it), one for
 * all of `channels`: a process that waits on several channels holds one connection.
 */
async function listenOnPostgres(
  url: string,
  channels: readonly string[],
  onNotify: NotifyHandler,
  logger?: Logger,
): Promise<Unlisten> {
  let current: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: url, application_name: 'roster-listen' });
    client.on('notification', (message) => {
      if (channels.includes(message.channel)) onNotify(message.payload, message.channel);
    });
    // A lost server must not crash the process: drop the client and open another later.
    client.on('error', (error) => {
      logger?.warn({ err: error }, 'db.listen.connection_error');
      drop(client);
    });
    client.on('end', () => drop(client));
    try {
      await client.connect();
      for (const channel of channels) await client.query(`listen ${quoteIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (stopped) await client.end();
    else current = client;
  };
  const reconnectLater = () => {
    retry = setTimeout(() => {
      connect().then(
        () => onNotify(undefined),
        (error: unknown) => {
          logger?.warn({ err: error }, 'db.listen.reconnect_failed');
          if (!stopped) reconnectLater();
        },
      );
    }, LISTEN_RECONNECT_DELAY_MS);
    retry.unref();
  };
  const drop = (client: pg.Client) => {
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => undefined);
    if (!stopped) reconnectLater();
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const client = current;
    current = undefined;
    await client?.end().catch(() => undefined);
  };
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function openPGlite(
  dataDir: string | undefined,
  loadDataDir?: Blob,
): Promise<RosterDatabase> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
  });
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Database>({ dialect });
  return {
    db,
    engine: 'pglite',
    ping: (timeoutMs = 2_000) => withTimeout(sql`select 1`.execute(db), timeoutMs),
    stats: () => ({
      engine: 'pglite',
      total: 1,
      idle: dialect.waiting === 0 ? 1 : 0,
      waiting: dialect.waiting,
    }),
    close: async () => {
      // kysely skips the driver's destroy() when no query ever ran; the WASM instance must
      // still be released.
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
    dumpDataDir: () => pglite.dumpDataDir('none'),
    listen: async (channels, onNotify) => {
      // LISTEN is a statement of the one session: take it from the dialect like a query would,
      // so it never lands inside (and dies with) someone else's open transaction.
      const stops = await db.connection().execute(async () => {
        const started: (() => Promise<void>)[] = [];
        for (const channel of typeof channels === 'string' ? [channels] : channels)
          started.push(await pglite.listen(channel, (payload) => onNotify(payload, channel)));
        return started;
      });
      let stopped = false;
      return async () => {
        if (stopped || pglite.closed) return;
        stopped = true;
        await db.connection().execute(async () => {
          for (const stop of stops) await stop();
        });
      };
    },
  };
}

async function withTimeout(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`database did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
