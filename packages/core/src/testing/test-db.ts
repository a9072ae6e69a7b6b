import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { DatabaseTarget } from '../config/load-config.js';
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
        await withAdminClient(serverUrl, (client) =>
          client.query(`drop database if exists ${name} with (force)`),
        );
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
