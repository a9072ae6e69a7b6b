import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, withAdminClient } from './test-db.js';

const serverUrl = process.env.DATABASE_URL as string;

const exists = (name: string) =>
  withAdminClient(serverUrl, async (client) => {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    return found.rowCount === 1;
  });

describe('the teardown of a test database', () => {
  // On a busy server another process (an autovacuum worker, another role's session) can be on
  // the database at teardown; the test role may not end it, so the teardown must not try to
  // (`drop … with (force)` then fails the whole run). It waits for the process to leave.
  it('waits for another session on the database to leave instead of ending it, then drops it', async () => {
    const database = await createTestDatabase({ migrated: false });
    if (database.target.kind !== 'postgres') throw new Error('this file runs on PostgreSQL only');
    const url = database.target.url;
    const name = new URL(url).pathname.slice(1);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const othersWork = other.query<{ done: boolean }>('select true as done from pg_sleep(1)');
    const closed = database.close();
    // The other session finishes its work undisturbed: nobody ended it.
    expect((await othersWork).rows).toEqual([{ done: true }]);
    await other.end();
    await closed;
    expect(await exists(name)).toBe(false);
  });
});
