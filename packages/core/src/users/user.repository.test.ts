import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import type { UserSummary } from './user.js';
import { listUsers, MAX_USER_PAGE_SIZE, type UserPage } from './user.repository.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'tests' } };

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

let tenantCounter = 0;
async function newTenant(): Promise<Tenant> {
  tenantCounter += 1;
  return createTenant(db, `users-${tenantCounter}`, operator);
}

/**
 * Inserts users straight into the table. `createdAt` may be a Date or a timestamptz literal
 * (to get sub-millisecond precision, as `now()` gives); omitted, the column default applies.
 */
async function insertUsers(
  tenantId: string,
  userNames: readonly string[],
  createdAt?: (index: number) => Date | string,
): Promise<void> {
  if (userNames.length === 0) return;
  await db
    .insertInto('users')
    .values(
      userNames.map((userName, index) => ({
        tenant_id: tenantId,
        user_name: userName,
        user_name_key: userName.toLowerCase(),
        source: 'scim' as const,
        managed_by: 'scim' as const,
        ...(createdAt ? { created_at: createdAt(index) } : {}),
      })),
    )
    .execute();
}

/** Follows `next` to the end, returning every page (bounded, so a cursor that loops cannot hang the test). */
async function allPages(tenantId: string, limit: number): Promise<UserPage[]> {
  const pages: UserPage[] = [];
  let after: string | undefined;
  do {
    const page = await listUsers(db, tenantId, after === undefined ? { limit } : { limit, after });
    pages.push(page);
    after = page.next;
  } while (after !== undefined && pages.length < 50);
  return pages;
}

/** The order listUsers promises: created_at, then id. */
async function expectedOrder(tenantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

const names = (count: number, prefix = 'user') =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, '0')}@example.com`);

async function expectInvalidCursor(tenantId: string, after: string): Promise<void> {
  const error: unknown = await listUsers(db, tenantId, { after }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CoreError);
  expect((error as CoreError).code).toBe('Invalid');
  expect((error as CoreError).details).toEqual({ field: 'after' });
}

describe('listUsers', () => {
  it('returns an empty last page for a tenant without users', async () => {
    const tenant = await newTenant();
    expect(await listUsers(db, tenant.id)).toEqual({ users: [] });
  });

  it('pages 25 users 10 at a time as 10, 10 and 5, in creation order, with no duplicates and no next on the last page', async () => {
    const tenant = await newTenant();
    // Inserted out of creation order, three users per instant, so the order comes from
    // (created_at, id) and ties are broken by id.
    const base = Date.parse('2026-01-01T00:00:00Z');
    await insertUsers(
      tenant.id,
      names(25),
      (i) => new Date(base + (24 - i - ((24 - i) % 3)) * 1000),
    );

    const pages = await allPages(tenant.id, 10);
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 5]);
    expect(pages[0]?.next).toEqual(expect.any(String));
    expect(pages[1]?.next).toEqual(expect.any(String));
    expect(pages[2]).not.toHaveProperty('next');

    const ids = pages.flatMap((p) => p.users.map((u) => u.id));
    expect(new Set(ids).size).toBe(25);
    expect(ids).toEqual(await expectedOrder(tenant.id));
    const createdAt = pages.flatMap((p) => p.users.map((u) => u.createdAt.getTime()));
    expect(createdAt).toEqual([...createdAt].sort((a, b) => a - b));
  });

  it('gives the same order on every listing and the same pages on every walk', async () => {
    const tenant = await newTenant();
    const at = new Date('2026-02-01T00:00:00Z');
    await insertUsers(tenant.id, names(12), () => at); // all at the same instant: order is by id alone
    const walk = async () => (await allPages(tenant.id, 5)).map((p) => p.users.map((u) => u.id));
    const first = await walk();
    expect(first.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(await walk()).toEqual(first);
    expect((await listUsers(db, tenant.id, { limit: 1000 })).users.map((u) => u.id)).toEqual(
      first.flat(),
    );
    expect(first.flat()).toEqual([...first.flat()].sort());
  });

  it('has no next on a page that exactly reaches the last user', async () => {
    const tenant = await newTenant();
    await insertUsers(tenant.id, names(10), (i) => new Date(Date.UTC(2026, 2, 1, 0, 0, i)));
    const page = await listUsers(db, tenant.id, { limit: 10 });
    expect(page.users).toHaveLength(10);
    expect(page).not.toHaveProperty('next');
  });

  it('maps every listed column to the summary', async () => {
    const tenant = await newTenant();
    await db
      .insertInto('users')
      .values({
        tenant_id: tenant.id,
        user_name: 'Ann@Example.com',
        user_name_key: 'ann@example.com',
        external_id: 'ext-1',
        display_name: 'Ann Example',
        source: 'jit',
        managed_by: 'scim',
        lifecycle_state: 'deprovisioned',
        purge_after: new Date('2026-12-01T00:00:00Z'),
        last_sign_in_at: new Date('2026-11-01T08:00:00Z'),
        created_at: new Date('2026-10-01T00:00:00Z'),
      })
      .execute();
    const { users } = await listUsers(db, tenant.id);
    expect(users).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
        tenantId: tenant.id,
        userName: 'Ann@Example.com',
        externalId: 'ext-1',
        displayName: 'Ann Example',
        state: 'deprovisioned',
        source: 'jit',
        managedBy: 'scim',
        lastSignInAt: new Date('2026-11-01T08:00:00Z'),
        purgeAfter: new Date('2026-12-01T00:00:00Z'),
        createdAt: new Date('2026-10-01T00:00:00Z'),
        version: 1,
      } satisfies UserSummary,
    ]);
  });

  it("never lists another tenant's users, on any page", async () => {
    const mine = await newTenant();
    const theirs = await newTenant();
    // Interleaved in time, so a missing tenant filter on any page would show.
    await insertUsers(
      mine.id,
      names(15, 'mine'),
      (i) => new Date(Date.UTC(2026, 3, 1, 0, 0, 2 * i)),
    );
    await insertUsers(
      theirs.id,
      names(15, 'theirs'),
      (i) => new Date(Date.UTC(2026, 3, 1, 0, 0, 2 * i + 1)),
    );

    const pages = await allPages(mine.id, 4);
    const users = pages.flatMap((p) => p.users);
    expect(users).toHaveLength(15);
    expect(users.every((u) => u.tenantId === mine.id && u.userName.startsWith('mine'))).toBe(true);

    // A cursor from one tenant does not open the other tenant's users either.
    const cursor = pages[0]?.next;
    expect(cursor).toBeDefined();
    const across = await listUsers(db, theirs.id, {
      limit: 100,
      ...(cursor ? { after: cursor } : {}),
    });
    expect(across.users.every((u) => u.tenantId === theirs.id)).toBe(true);
    expect(await listUsers(db, '00000000-0000-4000-8000-000000000000')).toEqual({ users: [] });
  });

  it('clamps the page size to between 1 and 1000, defaulting to 100', async () => {
    expect(MAX_USER_PAGE_SIZE).toBe(1000);
    const tenant = await newTenant();
    await insertUsers(tenant.id, names(1001), (i) => new Date(Date.UTC(2026, 4, 1) + i * 1000));

    const zero = await listUsers(db, tenant.id, { limit: 0 });
    expect(zero.users).toHaveLength(1);
    expect(zero.next).toEqual(expect.any(String));
    expect((await listUsers(db, tenant.id, { limit: -5 })).users).toHaveLength(1);
    expect((await listUsers(db, tenant.id)).users).toHaveLength(100);
    // fractions and NaN never reach the database's LIMIT
    expect((await listUsers(db, tenant.id, { limit: 2.5 })).users).toHaveLength(2);
    expect((await listUsers(db, tenant.id, { limit: Number.NaN })).users).toHaveLength(100);

    const huge = await listUsers(db, tenant.id, { limit: 5000 });
    expect(huge.users).toHaveLength(1000);
    expect(huge.next).toEqual(expect.any(String));
    const rest = await listUsers(db, tenant.id, {
      limit: 5000,
      ...(huge.next ? { after: huge.next } : {}),
    });
    expect(rest.users).toHaveLength(1);
    expect(rest).not.toHaveProperty('next');
    expect(rest.users[0]?.userName).toBe('user1000@example.com');
  });

  describe('with a cursor it did not issue', () => {
    let tenantId: string;
    let issuedAt: string;
    let issuedId: string;
    const encode = (text: string) => Buffer.from(text).toString('base64url');
    beforeAll(async () => {
      const tenant = await newTenant();
      tenantId = tenant.id;
      await insertUsers(tenant.id, names(3));
      const next = (await listUsers(db, tenantId, { limit: 1 })).next;
      // Tamper with a real cursor ("<instant>|<id>") so each case breaks exactly one part.
      [issuedAt = '', issuedId = ''] = Buffer.from(next ?? '', 'base64url')
        .toString()
        .split('|');
    });

    it('accepts the issued cursor re-encoded unchanged', async () => {
      expect(issuedId).toMatch(/^[0-9a-f-]{36}$/);
      const page = await listUsers(db, tenantId, {
        limit: 10,
        after: encode(`${issuedAt}|${issuedId}`),
      });
      expect(page.users).toHaveLength(2);
    });

    it.each([
      ['an arbitrary string', () => 'garbage'],
      ['a string that is not base64url', () => '%%%%'],
      ['a cursor without an id', () => encode(issuedAt)],
      ['a cursor with a bad instant', () => encode(`yesterday|${issuedId}`)],
      ['a cursor with a bad id', () => encode(`${issuedAt}|not-an-id`)],
      ['a cursor whose id is 36 hyphens', () => encode(`${issuedAt}|${'-'.repeat(36)}`)],
      [
        'a cursor whose id is 36 hex digits',
        () => encode(`${issuedAt}|${'0123456789abcdef'.repeat(2)}0123`),
      ],
    ])('refuses %s with Invalid', async (_label, cursor) => {
      await expectInvalidCursor(tenantId, cursor());
    });
  });

  // Regression: created_at has microseconds (what now() writes on PostgreSQL) and a cursor that
  // kept only milliseconds listed the last user of a page again on the next one.
  it('pages users whose created_at has microseconds without repeating any', async () => {
    const tenant = await newTenant();
    await insertUsers(
      tenant.id,
      names(25),
      (i) => `2026-06-01T00:00:${String(i).padStart(2, '0')}.123456Z`,
    );
    const pages = await allPages(tenant.id, 10);
    const ids = pages.flatMap((p) => p.users.map((u) => u.id));
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 5]);
    expect(ids).toEqual(await expectedOrder(tenant.id));
  });

  it('pages users created in one statement by the database clock to the end', async () => {
    const tenant = await newTenant();
    await insertUsers(tenant.id, names(25)); // all share the statement's now()
    const pages = await allPages(tenant.id, 10);
    const ids = pages.flatMap((p) => p.users.map((u) => u.id));
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 5]);
    expect(ids).toEqual(await expectedOrder(tenant.id));
  });
});
