import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { openDatabase } from './create-db.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';

const opened: TestDatabase[] = [];
afterAll(async () => {
  for (const database of opened) await database.close();
});

describe('migrations', () => {
  it('create the whole schema and are idempotent', async () => {
    const database = await createTestDatabase({ migrated: false });
    opened.push(database);
    expect(await migrateToLatest(database)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(database)).toEqual([]);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
      database.db,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'audit_events',
        'change_outbox',
        'group_members',
        'groups',
        'saml_assertion_ids',
        'saml_idps',
        'saml_links',
        'saml_request_ids',
        'scim_tokens',
        'sessions',
        'tenants',
        'user_emails',
        'users',
      ]),
    );
  });

  it('are applied exactly once when several instances start at the same moment', async () => {
    const database = await createTestDatabase({ migrated: false });
    opened.push(database);
    // On PostgreSQL each "instance" is its own pool, as separate processes would have; the
    // embedded engine belongs to one process, so there the racers share it.
    const instances =
      database.target.kind === 'postgres'
        ? await Promise.all(Array.from({ length: 4 }, () => openDatabase(database.target)))
        : [database, database, database, database];
    try {
      const applied = await Promise.all(instances.map((instance) => migrateToLatest(instance)));
      expect(applied.flat()).toEqual(Object.keys(migrations));
      const rows = await sql<{
        n: number;
      }>`select count(*)::int as n from roster_migration`.execute(database.db);
      expect(rows.rows[0]?.n).toBe(Object.keys(migrations).length);
    } finally {
      if (database.target.kind === 'postgres')
        await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  it('enforce the user invariants in the schema itself', async () => {
    const database = await createTestDatabase();
    opened.push(database);
    const db = database.db;
    const tenant = await db
      .insertInto('tenants')
      .values({ slug: 'acme' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const user = { tenant_id: tenant.id, source: 'scim' as const, managed_by: 'scim' as const };
    await db
      .insertInto('users')
      .values({ ...user, user_name: 'Ann@Example.com', user_name_key: 'ann@example.com' })
      .execute();
    await expect(
      db
        .insertInto('users')
        .values({ ...user, user_name: 'ANN@example.com', user_name_key: 'ann@example.com' })
        .execute(),
    ).rejects.toMatchObject({ code: '23505' });
    // deprovisioned <=> purge date
    await expect(
      db
        .insertInto('users')
        .values({ ...user, user_name: 'b', user_name_key: 'b', lifecycle_state: 'deprovisioned' })
        .execute(),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.insertInto('tenants').values({ slug: 'Not A Slug' }).execute(),
    ).rejects.toMatchObject({ code: '23514' });
  });
});
