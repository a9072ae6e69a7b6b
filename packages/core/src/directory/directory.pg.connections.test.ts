// PostgreSQL only: the handle's own connections (the pool and the dedicated LISTEN client).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { openDirectory, type DirectoryChange } from './index.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-06-01T00:00:00Z');

let database: TestDatabase;
let url: string;
beforeAll(async () => {
  database = await createTestDatabase();
  if (database.target.kind !== 'postgres') throw new Error('this file runs on PostgreSQL only');
  url = database.target.url;
});
afterAll(async () => {
  await database.close();
});

async function listenConnections(): Promise<number> {
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from pg_stat_activity
    where datname = current_database() and application_name = 'roster-listen'`.execute(database.db);
  return rows[0]?.count ?? 0;
}

async function nextWithin(feed: AsyncIterator<DirectoryChange>, ms = 10_000) {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      feed.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no change within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the directory’s connections on PostgreSQL', () => {
  it('opens one LISTEN connection for all its feeds and leaves none behind when closed', async () => {
    const tenant = await createTenant(database.db, 'conn', scim);
    const directory = await openDirectory({ databaseUrl: url, tenant: 'conn' });
    const feeds = [directory.changes(), directory.changes(), directory.changes()];
    const pending = feeds.map((feed) => feed.next());
    await createUserFromScim(database.db, tenant.id, { userName: 'a@example.com' }, scim, clock);
    for (const next of await Promise.all(pending)) expect(next.value?.seq).toBe(1);
    expect(await listenConnections()).toBe(1);
    await directory.close();
    expect(await listenConnections()).toBe(0);
    const { rows } = await sql<{ count: number }>`
      select count(*)::int as count from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and application_name = 'roster' and backend_type = 'client backend'
        and state = 'idle' and query like '%change_outbox%'`.execute(database.db);
    expect(rows[0]?.count).toBe(0);
  });

  it('re-opens a lost LISTEN connection and catches up what was written meanwhile', async () => {
    const tenant = await createTenant(database.db, 'lost', scim);
    const directory = await openDirectory({ databaseUrl: url, tenant: 'lost' });
    try {
      const feed = directory.changes({ pollIntervalMs: 600_000 });
      const first = nextWithin(feed);
      await createUserFromScim(database.db, tenant.id, { userName: 'a@example.com' }, scim, clock);
      expect((await first).value?.seq).toBe(1);

      const waiting = nextWithin(feed);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and application_name = 'roster-listen'`.execute(
        database.db,
      );
      // Committed while nobody listens: its NOTIFY is lost; the re-opened connection wakes the feed.
      await createUserFromScim(database.db, tenant.id, { userName: 'b@example.com' }, scim, clock);
      expect((await waiting).value?.seq).toBe(2);

      // And notifications flow again on the new connection.
      const third = nextWithin(feed);
      await createUserFromScim(database.db, tenant.id, { userName: 'c@example.com' }, scim, clock);
      expect((await third).value?.seq).toBe(3);
      expect(await listenConnections()).toBe(1);
    } finally {
      await directory.close();
    }
  });
});
