// 202612030100_trim_identity_keys on rows written under the previous key, collisions included.
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { migrateToLatest } from './migrate.js';
import { migrations } from './migrations/index.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'roster_migration',
    migrationLockTableName: 'roster_migration_lock',
  });
  const { error } = await migrator.migrateTo('202611230520_add_saml_sso_details');
  if (error) throw error instanceof Error ? error : new Error('migrating to 202611230520 failed');
});
afterAll(() => database.close());

/** A user as the previous code stored it: key = NFC, lower case, white space kept. */
async function userWithOldKey(tenantId: string, userName: string, createdAt: string) {
  const row = await sql<{ id: string }>`
    insert into users (tenant_id, user_name, user_name_key, source, managed_by, created_at)
    values (${tenantId}, ${userName}, ${userName.normalize('NFC').toLowerCase()}, 'scim', 'scim', ${createdAt})
    returning id`.execute(database.db);
  return row.rows[0]?.id ?? '';
}

const keyOf = async (id: string) =>
  (
    await sql<{ key: string }>`select user_name_key as key from users where id = ${id}`.execute(
      database.db,
    )
  ).rows[0]?.key;

describe('trimming identity keys', () => {
  it('moves keys to their trimmed form, and leaves a colliding user as it was', async () => {
    const db = database.db;
    const tenant = async (slug: string) =>
      (
        await sql<{ id: string }>`insert into tenants (slug) values (${slug}) returning id`.execute(
          db,
        )
      ).rows[0]?.id ?? '';
    const acme = await tenant('acme');
    const globex = await tenant('globex');

    const ann = await userWithOldKey(acme, ' Ann@Example.com\u00a0', '2026-01-01T00:00:00Z');
    const annElsewhere = await userWithOldKey(globex, 'ann@example.com ', '2026-01-01T00:00:00Z');
    const bob = await userWithOldKey(acme, 'bob@example.com', '2026-01-02T00:00:00Z');
    const bobSpaced = await userWithOldKey(acme, ' bob@example.com', '2026-01-01T00:00:00Z');
    const cyOld = await userWithOldKey(acme, 'cy@example.com\t', '2026-01-01T00:00:00Z');
    const cyNew = await userWithOldKey(acme, ' cy@example.com', '2026-01-03T00:00:00Z');
    const inside = await userWithOldKey(acme, 'dee smith', '2026-01-01T00:00:00Z');
    await sql`insert into user_emails (user_id, position, tenant_id, value, value_key)
      values (${ann}, 0, ${acme}, ' Ann@Example.com', ' ann@example.com')`.execute(db);

    // Later migrations run after it; this one is the first of them.
    expect((await migrateToLatest(database))[0]).toBe('202612030100_trim_identity_keys');

    expect(await keyOf(ann)).toBe('ann@example.com');
    expect(await keyOf(annElsewhere)).toBe('ann@example.com');
    // bob@example.com had the key first: the spaced copy keeps its old key
    expect(await keyOf(bob)).toBe('bob@example.com');
    expect(await keyOf(bobSpaced)).toBe(' bob@example.com');
    // both spaced: the older gets the key
    expect(await keyOf(cyOld)).toBe('cy@example.com');
    expect(await keyOf(cyNew)).toBe(' cy@example.com');
    expect(await keyOf(inside)).toBe('dee smith');
    const email = await sql<{ key: string }>`
      select value_key as key from user_emails where user_id = ${ann}`.execute(db);
    expect(email.rows).toEqual([{ key: 'ann@example.com' }]);
    const users = await sql<{ n: number }>`select count(*)::int as n from users`.execute(db);
    expect(users.rows[0]?.n).toBe(7);
  });
});
