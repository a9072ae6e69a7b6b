import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { CoreError } from '../errors.js';
import { deactivateUser } from '../provisioning/lifecycle.js';
import { createUserFromScim, deleteUserFromScim } from '../provisioning/provision-from-scim.js';
import { createGroupFromScim } from '../provisioning/provision-groups.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { isActive, openDirectory, type Directory } from './index.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-06-01T00:00:00Z');

let database: TestDatabase;
let directory: Directory;
let tenantId: string;
let otherTenantId: string;

/** On PostgreSQL the handle is opened from a URL, as another app would; on PGlite in process. */
function openTestDirectory(database: TestDatabase, tenant?: string): Promise<Directory> {
  const where =
    database.target.kind === 'postgres'
      ? { databaseUrl: database.target.url }
      : { database: database };
  return openDirectory({ ...where, ...(tenant !== undefined ? { tenant } : {}) });
}

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'acme', scim)).id;
  otherTenantId = (await createTenant(database.db, 'globex', scim)).id;
  directory = await openTestDirectory(database, 'acme');
});
afterAll(async () => {
  await directory.close();
  await database.close();
});

async function createUser(
  userName: string,
  extra: { emails?: { value: string }[] } = {},
  at = clock,
) {
  return (await createUserFromScim(database.db, tenantId, { userName, ...extra }, scim, at)).user;
}

describe('openDirectory', () => {
  it('refuses a URL that is not PostgreSQL, and an unknown tenant, at once', async () => {
    await expect(openDirectory({ databaseUrl: 'mysql://x' })).rejects.toThrow(CoreError);
    await expect(openTestDirectory(database, 'nope')).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('asks for a tenant when the handle has no default one', async () => {
    const anyTenant = await openTestDirectory(database);
    try {
      await expect(anyTenant.users.findById('x')).rejects.toMatchObject({ code: 'Invalid' });
      const ada = await createUser('no-default@acme.example');
      expect((await anyTenant.users.findById(ada.id, { tenant: 'acme' }))?.userName).toBe(
        'no-default@acme.example',
      );
    } finally {
      await anyTenant.close();
    }
  });
});

describe('users', () => {
  it('finds a user by id, by userName in any case and Unicode form, and by email', async () => {
    const ada = await createUser('Ada.Lovelace@Acme.example', {
      emails: [{ value: 'ada@acme.example' }],
    });
    const byId = await directory.users.findById(ada.id);
    expect(byId).toMatchObject({
      id: ada.id,
      tenant: 'acme',
      userName: 'Ada.Lovelace@Acme.example',
      emails: [{ value: 'ada@acme.example' }],
      active: true,
      state: 'active',
      managedBy: 'scim',
    });
    expect(byId?.createdAt).toBeInstanceOf(Date);
    expect(Object.keys(byId ?? {})).not.toContain('scimResource');
    expect((await directory.users.findByUserName('ada.lovelace@acme.EXAMPLE'))?.id).toBe(ada.id);
    expect((await directory.users.findByEmail('ADA@acme.example')).map((u) => u.id)).toEqual([
      ada.id,
    ]);

    const noel = await createUser('No\u00ebl@acme.example'); // precomposed ë
    expect((await directory.users.findByUserName('NOE\u0308L@acme.example'))?.id).toBe(noel.id);
  });

  it('returns every holder of a shared email, oldest first', async () => {
    const first = await createUser('shared-1@acme.example', {
      emails: [{ value: 'team@acme.example' }],
    });
    const second = await createUser(
      'shared-2@acme.example',
      { emails: [{ value: 'Team@acme.example' }] },
      fixedClock('2026-06-01T00:00:01Z'),
    );
    const holders = await directory.users.findByEmail('team@acme.example');
    expect(holders.map((u) => u.id)).toEqual([first.id, second.id]);
  });

  it('finds nothing for unknown or malformed keys, and nothing of another tenant', async () => {
    const other = await createUserFromScim(
      database.db,
      otherTenantId,
      { userName: 'elsewhere@globex.example', emails: [{ value: 'elsewhere@globex.example' }] },
      scim,
      clock,
    );
    expect(await directory.users.findById('not-a-uuid')).toBeUndefined();
    expect(await directory.users.findById(other.user.id)).toBeUndefined();
    expect(await directory.users.findByUserName('elsewhere@globex.example')).toBeUndefined();
    expect(await directory.users.findByEmail('elsewhere@globex.example')).toEqual([]);
    expect(await directory.isActive(other.user.id)).toBe(false);
    expect((await directory.users.findById(other.user.id, { tenant: 'globex' }))?.tenant).toBe(
      'globex',
    );
  });

  it('tells active, deactivated and deprovisioned users apart', async () => {
    const active = await createUser('active@acme.example');
    const inactive = await createUser('inactive@acme.example');
    const deleted = await createUser('deleted@acme.example');
    await deactivateUser(database.db, tenantId, inactive.id, scim, clock);
    await deleteUserFromScim(database.db, tenantId, deleted.id, scim, clock);

    expect(await directory.isActive(active.id)).toBe(true);
    expect(await directory.isActive(inactive.id)).toBe(false);
    expect(await directory.isActive(deleted.id)).toBe(false);
    expect(await directory.isActive('00000000-0000-4000-8000-000000000000')).toBe(false);

    const found = await directory.users.findById(deleted.id);
    expect(found).toMatchObject({ state: 'deprovisioned', active: false });
    expect(isActive(found)).toBe(false);
    expect((await directory.users.findByUserName('deleted@acme.example'))?.state).toBe(
      'deprovisioned',
    );
    expect(isActive(await directory.users.findById(inactive.id))).toBe(false);
    expect(isActive(await directory.users.findById(active.id))).toBe(true);
    expect(isActive(undefined)).toBe(false);
  });
});

describe('groups', () => {
  it('lists a user’s groups and a group’s members a page at a time', async () => {
    const people = [];
    for (let i = 0; i < 5; i++) people.push(await createUser(`member-${i}@acme.example`));
    const ids = people.map((p) => p.id);
    const engineers = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Engineers' },
      ids,
      scim,
      clock,
    );
    const admins = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Admins' },
      [ids[0] ?? '', engineers.id],
      scim,
      clock,
    );

    expect(await directory.groupsOf(ids[0] ?? '')).toEqual([
      { id: admins.id, displayName: 'Admins' },
      { id: engineers.id, displayName: 'Engineers' },
    ]);
    expect(await directory.groupsOf(ids[4] ?? '')).toEqual([
      { id: engineers.id, displayName: 'Engineers' },
    ]);
    expect(await directory.groupsOf('not-a-uuid')).toEqual([]);
    expect(await directory.groups.findById(engineers.id)).toMatchObject({
      id: engineers.id,
      tenant: 'acme',
      displayName: 'Engineers',
      managedBy: 'scim',
    });

    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await directory.membersOf(engineers.id, {
        limit: 2,
        ...(after !== undefined ? { after } : {}),
      });
      expect(page.members.length).toBeLessThanOrEqual(2);
      seen.push(...page.members.map((m) => m.id));
      after = page.next;
      pages += 1;
    } while (after !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());

    const adminMembers = await directory.membersOf(admins.id);
    expect(adminMembers.next).toBeUndefined();
    expect(adminMembers.members).toEqual(
      expect.arrayContaining([
        { id: ids[0], type: 'user', display: 'member-0@acme.example' },
        { id: engineers.id, type: 'group', display: 'Engineers' },
      ]),
    );

    // A SCIM-deleted member drops out of its groups' pages.
    await deleteUserFromScim(database.db, tenantId, ids[1] ?? '', scim, clock);
    const all = await directory.membersOf(engineers.id, { limit: 100 });
    expect(all.members.map((m) => m.id)).not.toContain(ids[1]);
    expect(all.members).toHaveLength(4);

    expect(await directory.membersOf('00000000-0000-4000-8000-000000000000')).toEqual({
      members: [],
    });
    await expect(directory.membersOf(engineers.id, { after: 'junk' })).rejects.toMatchObject({
      code: 'Invalid',
    });
  });
});
