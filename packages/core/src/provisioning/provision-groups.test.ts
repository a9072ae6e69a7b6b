import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { openDatabase, type RosterDatabase } from '../db/create-db.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { createUserFromScim, deleteUserFromScim } from './provision-from-scim.js';
import {
  createGroupFromScim,
  deleteGroupFromScim,
  patchGroupFromScim,
  updateGroupFromScim,
} from './provision-groups.js';
import { purgeExpiredUsers } from './purge.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' }, requestId: 'req-g' };
const clock = fixedClock('2026-06-01T00:00:00Z');
let database: TestDatabase;
let second: RosterDatabase;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  second = database.target.kind === 'postgres' ? await openDatabase(database.target) : database;
});
afterAll(async () => {
  if (second !== database) await second.close();
  await database.close();
});

async function tenantWithUsers(count: number) {
  n += 1;
  const tenant = await createTenant(database.db, `groups-${n}`, scim);
  const users: string[] = [];
  for (let i = 0; i < count; i++) {
    users.push(
      (
        await createUserFromScim(
          database.db,
          tenant.id,
          { userName: `u${i}@example.com` },
          scim,
          clock,
        )
      ).user.id,
    );
  }
  const { id: idpId } = await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'idp',
      entity_id: `https://idp/${n}`,
      sso_url: 'https://idp/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { tenantId: tenant.id, users, idpId };
}

const membersOf = async (groupId: string) =>
  (
    await database.db
      .selectFrom('group_members')
      .select('member_id')
      .where('group_id', '=', groupId)
      .orderBy('member_id')
      .execute()
  ).map((r) => r.member_id);

describe('SCIM groups through core', () => {
  it('creates a group with user and group members, and changes members by delta', async () => {
    const { tenantId, users } = await tenantWithUsers(4);
    const inner = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Inner' },
      [],
      scim,
      clock,
    );
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Eng', externalId: 'g-1' },
      [users[0] ?? '', inner.id],
      scim,
      clock,
    );
    expect(await membersOf(group.id)).toEqual([users[0], inner.id].sort());
    const updated = await updateGroupFromScim(
      database.db,
      tenantId,
      group.id,
      { members: { add: [users[1] ?? '', users[0] ?? ''], remove: [inner.id] } },
      scim,
      clock,
    );
    expect(updated.version).toBe(2);
    expect(await membersOf(group.id)).toEqual([users[0], users[1]].sort());
    await updateGroupFromScim(
      database.db,
      tenantId,
      group.id,
      { attributes: { displayName: 'Engineering' }, members: { replaceAll: [users[3] ?? ''] } },
      scim,
      clock,
    );
    expect(await membersOf(group.id)).toEqual([users[3]]);
    const trail = await database.db
      .selectFrom('audit_events')
      .select(['action', 'changes'])
      .where('target_id', '=', group.id)
      .orderBy('id')
      .execute();
    expect(trail.map((e) => e.action)).toEqual(['group.created', 'group.updated', 'group.updated']);
    expect(trail[2]?.changes).toMatchObject({
      displayName: { before: 'Eng', after: 'Engineering' },
      membersAdded: 1,
      membersRemoved: 2,
    });
  });

  it('refuses a member id that does not exist, writing nothing', async () => {
    const { tenantId, users } = await tenantWithUsers(1);
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Ops' },
      [users[0] ?? ''],
      scim,
      clock,
    );
    for (const bad of ['00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      await expect(
        updateGroupFromScim(
          database.db,
          tenantId,
          group.id,
          { members: { add: [bad] } },
          scim,
          clock,
        ),
      ).rejects.toMatchObject({ code: 'Invalid' });
      await expect(
        updateGroupFromScim(
          database.db,
          tenantId,
          group.id,
          { members: { replaceAll: [bad] } },
          scim,
          clock,
        ),
      ).rejects.toMatchObject({ code: 'Invalid' });
    }
    await expect(
      createGroupFromScim(
        database.db,
        tenantId,
        { displayName: 'Nope' },
        ['00000000-0000-4000-8000-000000000000'],
        scim,
        clock,
      ),
    ).rejects.toMatchObject({
      code: 'Invalid',
    });
    expect(await membersOf(group.id)).toEqual([users[0]]);
    expect(
      (
        await database.db
          .selectFrom('groups')
          .select('version')
          .where('id', '=', group.id)
          .executeTakeFirstOrThrow()
      ).version,
    ).toBe(1);
    expect(
      await database.db
        .selectFrom('groups')
        .select('id')
        .where('display_name', '=', 'Nope')
        .execute(),
    ).toEqual([]);
  });

  it("refuses another tenant's user as a member", async () => {
    const a = await tenantWithUsers(1);
    const b = await tenantWithUsers(1);
    await expect(
      createGroupFromScim(
        database.db,
        a.tenantId,
        { displayName: 'X' },
        [b.users[0] ?? ''],
        scim,
        clock,
      ),
    ).rejects.toMatchObject({ code: 'Invalid' });
  });

  it('answers a duplicate externalId with Conflict, an unknown group with NotFound, a stale version with PreconditionFailed', async () => {
    const { tenantId } = await tenantWithUsers(0);
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'A', externalId: 'same' },
      [],
      scim,
      clock,
    );
    await expect(
      createGroupFromScim(
        database.db,
        tenantId,
        { displayName: 'B', externalId: 'same' },
        [],
        scim,
        clock,
      ),
    ).rejects.toMatchObject({ code: 'Conflict' });
    await expect(
      updateGroupFromScim(
        database.db,
        tenantId,
        '00000000-0000-4000-8000-000000000000',
        {},
        scim,
        clock,
      ),
    ).rejects.toMatchObject({ code: 'NotFound' });
    await expect(
      updateGroupFromScim(database.db, tenantId, group.id, { ifMatchVersion: 9 }, scim, clock),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' });
    await deleteGroupFromScim(database.db, tenantId, group.id, scim);
    await expect(deleteGroupFromScim(database.db, tenantId, group.id, scim)).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('applies concurrent patches to the locked group one after the other, losing none', async () => {
    const { tenantId, users } = await tenantWithUsers(3);
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'G' },
      [],
      scim,
      clock,
    );
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((letter, i) =>
        patchGroupFromScim(
          (i % 2 ? second : database).db,
          tenantId,
          group.id,
          (current) => ({
            attributes: { displayName: `${current.displayName}${letter}` },
            members: { add: [users[i % 3] ?? ''] },
          }),
          scim,
          clock,
        ),
      ),
    );
    const after = await database.db
      .selectFrom('groups')
      .select(['display_name', 'version'])
      .where('id', '=', group.id)
      .executeTakeFirstOrThrow();
    expect([...after.display_name].sort().join('')).toBe('Gabcd');
    expect(after.version).toBe(5);
    expect(await membersOf(group.id)).toEqual([...users].sort());
    // A change that computes nothing writes nothing; a stale If-Match writes nothing either.
    expect(
      (await patchGroupFromScim(database.db, tenantId, group.id, () => undefined, scim, clock))
        .version,
    ).toBe(5);
    await expect(
      patchGroupFromScim(database.db, tenantId, group.id, () => ({}), scim, clock, {
        ifMatchVersion: 4,
      }),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' });
  });

  it('loses a purged user from its groups', async () => {
    const { tenantId, users } = await tenantWithUsers(2);
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'G' },
      users,
      scim,
      clock,
    );
    await deleteUserFromScim(database.db, tenantId, users[0] ?? '', scim, clock);
    await purgeExpiredUsers(
      database.db,
      fixedClock(new Date(clock.now().getTime() + 91 * 86_400_000)),
      { tenantId },
    );
    expect(await membersOf(group.id)).toEqual([users[1]]);
  });
});

describe('rule 2, groups: a JIT user gets the groups of its assertion', () => {
  it('joins JIT groups created by name, leaves those no longer asserted, and never touches SCIM groups', async () => {
    const { tenantId, idpId, users } = await tenantWithUsers(1);
    const scimGroup = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Staff' },
      [users[0] ?? ''],
      scim,
      clock,
    );
    const first = await signInWithSaml(
      database.db,
      tenantId,
      idpId,
      { nameId: 'jit@example.com', groups: ['Staff', 'Pilots', 'pilots', 'Crew'] },
      scim,
      clock,
    );
    if (first.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const jitGroups = await database.db
      .selectFrom('groups')
      .select(['id', 'display_name'])
      .where('tenant_id', '=', tenantId)
      .where('managed_by', '=', 'jit')
      .orderBy('display_name')
      .execute();
    expect(jitGroups.map((g) => g.display_name)).toEqual(['Crew', 'Pilots', 'Staff']);
    expect(await membersOf(scimGroup.id)).toEqual([users[0]]);

    await signInWithSaml(
      database.db,
      tenantId,
      idpId,
      { nameId: 'jit@example.com', groups: ['Crew'] },
      scim,
      clock,
    );
    const memberships = await database.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('groups.display_name')
      .where('member_user_id', '=', first.user.id)
      .execute();
    expect(memberships.map((m) => m.display_name)).toEqual(['Crew']);

    // No groups attribute mapped: memberships are left alone.
    await signInWithSaml(database.db, tenantId, idpId, { nameId: 'jit@example.com' }, scim, clock);
    expect(
      await database.db
        .selectFrom('group_members')
        .select('group_id')
        .where('member_user_id', '=', first.user.id)
        .execute(),
    ).toHaveLength(1);
  });

  it('creates one JIT group per name when many people sign in at once', async () => {
    const { tenantId, idpId } = await tenantWithUsers(0);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        signInWithSaml(
          (i % 2 ? second : database).db,
          tenantId,
          idpId,
          { nameId: `p${i}@example.com`, groups: ['Everyone'] },
          scim,
          clock,
        ),
      ),
    );
    const groups = await database.db
      .selectFrom('groups')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .execute();
    expect(groups).toHaveLength(1);
    const count = await sql<{
      n: number;
    }>`select count(*)::int as n from group_members where group_id = ${groups[0]?.id}`.execute(
      database.db,
    );
    expect(count.rows[0]?.n).toBe(8);
  });
});
