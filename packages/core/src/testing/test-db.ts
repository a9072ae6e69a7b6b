import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { DatabaseTarget } from '../config/base.config.js';
import { openDatabase, type RosterDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';

/** Where the global setup left the migrated template (set in each test worker's env). */
export const TEMPLATE_ENV = 'ROSTER_TEST_TEMPLATE';

export interface TestDatabase extends RosterDatabase {
  /** How to reach this same database from another pool or process (PostgreSQL only). */
  readonly target: DatabaseTarget;
}

/** A fresh, migrated, empty database for one test file; on PostgreSQL when DATABASE_URL is set. */
export async function createTestDatabase(
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const serverUrl = process.env.DATABASE_URL;
  const template = process.env[TEMPLATE_ENV];
  if (serverUrl) {
    const name = `roster_t_${randomBytes(6).toString('hex')}`;
    await withAdminClient(serverUrl, async (client) => {
      const from = migrated && template ? ` template ${template}` : '';
      await client.query(`create database ${name}${from}`);
    });
    const target: DatabaseTarget = {
      kind: 'postgres',
      url: withDatabase(serverUrl, name),
      poolMax: 10,
    };
    const database = await openDatabase(target);
    if (migrated && !template) await migrateToLatest(database);
    return {
      ...database,
      target,
      close: async () => {
        await database.close();
        await dropDatabase(serverUrl, name);
      },
    };
  }
  const target: DatabaseTarget = { kind: 'pglite-memory' };
  if (migrated && template) {
    const dump = new Blob([await readFile(template)]);
    return { ...(await openDatabase(target, { loadDataDir: dump })), target };
  }
  const database = await openDatabase(target);
  if (migrated) await migrateToLatest(database);
  return { ...database, target };
}

/** How long a teardown waits for other sessions to leave the database it drops. */
export const DROP_DATABASE_WAIT_MS = 30_000;

const OBJECT_IN_USE = '55006';

/**
 * Drops a test database once nothing is on it. Never `with (force)`: that must end every other
 * process on the database and fails when one is not the test role's to end (an autovacuum
 * worker, another role's session: "must be a member of the role whose process is being
 * terminated or member of pg_signal_backend"). A plain drop itself asks autovacuum workers to
 * stop and waits up to 5 s for them; other sessions are waited for, then the test role's own
 * (a pool a test forgot) are ended. A database that something outside the test still holds is
 * left behind with a warning: a teardown does not fail for a process that is not the product's.
 */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withAdminClient(serverUrl, async (client) => {
    const drop = async (): Promise<boolean> => {
      try {
        await client.query(`drop database if exists ${name}`);
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code !== OBJECT_IN_USE) throw error;
        return false;
      }
    };
    const started = Date.now();
    for (
      let pause = 50;
      Date.now() - started < DROP_DATABASE_WAIT_MS;
      pause = Math.min(pause * 2, 1000)
    ) {
      if (await drop()) return;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = $1 and usename = current_user and pid <> pg_backend_pid()`,
      [name],
    );
    if (await drop()) return;
    const holders = await client.query<{ who: string }>(
      `select coalesce(usename, backend_type) || ' (' || coalesce(nullif(application_name, ''), 'no name') || ')' as who
         from pg_stat_activity where datname = $1`,
      [name],
    );
    process.emitWarning(
      `test database ${name} left behind: still in use by ${holders.rows.map((row) => row.who).join(', ') || 'another process'}`,
    );
  });
}

/** The same server URL with another database name. */
export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdminClient<T>(
  serverUrl: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
