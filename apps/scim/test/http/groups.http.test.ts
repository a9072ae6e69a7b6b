// /Groups on the real server, members as rows (users and groups).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  createGroup,
  createUser,
  expectScimError,
  GROUP_SCHEMA,
  patchOp,
  startScim,
  storedMemberIds,
  storedVersion,
  UNKNOWN_ID,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

let harness: ScimHarness;
let acme: TenantClient;
let ann: Body;
let bob: Body;
let cat: Body;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
  ann = await createUser(acme, 'ann@acme.test', { displayName: 'Ann' });
  bob = await createUser(acme, 'bob@acme.test', { displayName: 'Bob' });
  cat = await createUser(acme, 'cat@acme.test', { displayName: 'Cat' });
});
afterAll(() => harness.close());

const memberValues = (body: Body): string[] =>
  ((body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
const sorted = (...ids: string[]) => [...ids].sort();

describe('POST /Groups and GET /Groups/:id', () => {
  it('creates a group with user members: 201, Location, members with type and $ref', async () => {
    const res = await acme.post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      externalId: 'ext-eng',
      members: [{ value: ann.id }, { value: bob.id, type: 'User' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const group = res.body;
    expect(res.headers.location).toBe(`${acme.baseUrl}/Groups/${group.id}`);
    expect(group).toMatchObject({
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      externalId: 'ext-eng',
      meta: { resourceType: 'Group', location: `${acme.baseUrl}/Groups/${group.id}` },
    });
    expect(group.members).toHaveLength(2);
    expect(group.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          value: ann.id,
          type: 'User',
          $ref: `${acme.baseUrl}/Users/${ann.id}`,
        }),
        expect.objectContaining({
          value: bob.id,
          type: 'User',
          $ref: `${acme.baseUrl}/Users/${bob.id}`,
        }),
      ]),
    );
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual(
      sorted(ann.id, bob.id),
    );

    const read = await acme.get(`/Groups/${group.id}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(read.body.displayName).toBe('Engineering');
    expect(memberValues(read.body)).toEqual(sorted(ann.id, bob.id));
    // The user's readOnly `groups` shows the membership (RFC 7643 §4.1.2).
    const annNow = await acme.get(`/Users/${ann.id}`);
    expect(annNow.body.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: group.id, display: 'Engineering' }),
      ]),
    );
  });

  it('returns no members with excludedAttributes=members, on a read and in a list', async () => {
    const group = await createGroup(acme, 'Excluded', [ann.id, bob.id]);
    const res = await acme.get(`/Groups/${group.id}?excludedAttributes=members`);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('members');
    expect(res.body.displayName).toBe('Excluded');
    expect(res.body.id).toBe(group.id);
    const list = await acme.get(
      `/Groups?filter=${encodeURIComponent('displayName eq "Excluded"')}&excludedAttributes=members`,
    );
    expect(list.status).toBe(200);
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0]).not.toHaveProperty('members');
    expect(list.body.Resources[0].id).toBe(group.id);
  });

  it('takes groups as members too (nested groups)', async () => {
    const inner = await createGroup(acme, 'Inner', [cat.id]);
    const res = await acme.post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Outer',
      members: [{ value: inner.id, type: 'Group' }, { value: ann.id }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          value: inner.id,
          type: 'Group',
          $ref: `${acme.baseUrl}/Groups/${inner.id}`,
        }),
        expect.objectContaining({ value: ann.id, type: 'User' }),
      ]),
    );
    const rows = await harness.db
      .selectFrom('group_members')
      .select(['member_user_id', 'member_group_id'])
      .where('group_id', '=', res.body.id)
      .execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        { member_user_id: null, member_group_id: inner.id },
        { member_user_id: ann.id, member_group_id: null },
      ]),
    );
  });

  it('refuses a member that does not exist: 400 naming it, no group written', async () => {
    const groupsBefore = await countRows(harness.db, 'groups', acme.tenant.id);
    const membersBefore = await countRows(harness.db, 'group_members', acme.tenant.id);
    for (const missing of [UNKNOWN_ID, 'not-a-uuid']) {
      const res = await acme.post('/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: `Ghosts ${missing}`,
        members: [{ value: ann.id }, { value: missing }],
      });
      expectScimError(res, 400);
      expect(res.body.detail).toContain(missing);
    }
    expect(await countRows(harness.db, 'groups', acme.tenant.id)).toBe(groupsBefore);
    expect(await countRows(harness.db, 'group_members', acme.tenant.id)).toBe(membersBefore);
  });

  it('answers an unknown group with 404, an empty or missing displayName with 400', async () => {
    expectScimError(await acme.get(`/Groups/${UNKNOWN_ID}`), 404);
    expectScimError(await acme.get('/Groups/not-a-uuid'), 404);
    const before = await countRows(harness.db, 'groups', acme.tenant.id);
    expectScimError(await acme.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: '' }), 400);
    // displayName is required (RFC 7643 §4.2); members must be a multi-valued attribute.
    expectScimError(await acme.post('/Groups', { schemas: [GROUP_SCHEMA] }), 400, 'invalidValue');
    expectScimError(
      await acme.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'g', members: 'x' }),
      400,
      'invalidValue',
    );
    expect(await countRows(harness.db, 'groups', acme.tenant.id)).toBe(before);
  });
});

describe('PATCH /Groups/:id (RFC 7644 §3.5.2)', () => {
  it('adds and removes members', async () => {
    const group = await createGroup(acme, 'Patched', [ann.id]);
    const added = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'add', path: 'members', value: [{ value: bob.id }, { value: cat.id }] }),
    );
    expect([200, 204], JSON.stringify(added.body)).toContain(added.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual(
      sorted(ann.id, bob.id, cat.id),
    );
    expect(memberValues((await acme.get(`/Groups/${group.id}`)).body)).toEqual(
      sorted(ann.id, bob.id, cat.id),
    );

    const removed = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'remove', path: `members[value eq "${ann.id}"]` }),
    );
    expect([200, 204], JSON.stringify(removed.body)).toContain(removed.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual(
      sorted(bob.id, cat.id),
    );

    // Entra's form: remove with the members in the value (test/interop/fixtures/entra.ts).
    const removedByValue = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'Remove', path: 'members', value: [{ value: bob.id }] }),
    );
    expect([200, 204], JSON.stringify(removedByValue.body)).toContain(removedByValue.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([cat.id]);
    expect(memberValues((await acme.get(`/Groups/${group.id}`)).body)).toEqual([cat.id]);
  });

  it('loses no member when several PATCHes add members at the same time', async () => {
    const group = await createGroup(acme, 'Parallel adds');
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await createUser(acme, `parallel-${i}@acme.test`));
    const answers = await Promise.all(
      users.map((user) =>
        acme.patch(
          `/Groups/${group.id}`,
          patchOp({ op: 'add', path: 'members', value: [{ value: user.id }] }),
        ),
      ),
    );
    for (const res of answers) expect([200, 204], JSON.stringify(res.body)).toContain(res.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual(
      sorted(...users.map((u) => u.id)),
    );
  });

  it('replaces the whole member list, and removes every member with a path-only remove', async () => {
    const group = await createGroup(acme, 'Replace members', [ann.id, bob.id]);
    const replaced = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'replace', path: 'members', value: [{ value: cat.id }] }),
    );
    expect([200, 204], JSON.stringify(replaced.body)).toContain(replaced.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([cat.id]);
    const emptied = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'remove', path: 'members' }),
    );
    expect([200, 204], JSON.stringify(emptied.body)).toContain(emptied.status);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([]);
    expect((await acme.get(`/Groups/${group.id}`)).body.members ?? []).toEqual([]);
  });

  it("answers Entra's membership check: filter by id and members[value eq], members excluded", async () => {
    const group = await createGroup(acme, 'Membership check', [ann.id]);
    const query = (userId: string) =>
      acme.get(
        `/Groups?filter=${encodeURIComponent(`id eq "${group.id}" and members[value eq "${userId}"]`)}&excludedAttributes=members`,
      );
    const member = await query(ann.id);
    expect(member.status, JSON.stringify(member.body)).toBe(200);
    expect(member.body.totalResults).toBe(1);
    expect(member.body.Resources[0].id).toBe(group.id);
    expect(member.body.Resources[0]).not.toHaveProperty('members');
    const notMember = await query(bob.id);
    expect(notMember.body.totalResults).toBe(0);
  });

  it('no longer shows a deleted (deprovisioned) user as a member', async () => {
    const leaver = await createUser(acme, 'group-leaver@acme.test');
    const group = await createGroup(acme, 'Leavers', [leaver.id, ann.id]);
    expect((await acme.delete(`/Users/${leaver.id}`)).status).toBe(204);
    expect(memberValues((await acme.get(`/Groups/${group.id}`)).body)).toEqual([ann.id]);
  });

  it('replaces the displayName and answers the resource when asked for attributes', async () => {
    const group = await createGroup(acme, 'Old name', [ann.id]);
    const res = await acme.patch(
      `/Groups/${group.id}?excludedAttributes=members`,
      patchOp({ op: 'replace', path: 'displayName', value: 'New name' }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.displayName).toBe('New name');
    expect(res.body).not.toHaveProperty('members');
    const row = await harness.db
      .selectFrom('groups')
      .select('display_name')
      .where('id', '=', group.id)
      .executeTakeFirstOrThrow();
    expect(row.display_name).toBe('New name');
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([ann.id]);
  });

  it('refuses to add a member that does not exist: 400 naming it, members and version unchanged', async () => {
    const group = await createGroup(acme, 'Guarded', [ann.id]);
    const version = await storedVersion(harness.db, 'groups', group.id);
    const res = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'add', path: 'members', value: [{ value: bob.id }, { value: UNKNOWN_ID }] }),
    );
    expectScimError(res, 400);
    expect(res.body.detail).toContain(UNKNOWN_ID);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([ann.id]);
    expect(await storedVersion(harness.db, 'groups', group.id)).toBe(version);
  });

  it('answers a PATCH of an unknown group with 404', async () => {
    expectScimError(
      await acme.patch(
        `/Groups/${UNKNOWN_ID}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: ann.id }] }),
      ),
      404,
    );
  });
});

describe('PUT and DELETE /Groups/:id', () => {
  it('PUT replaces the displayName and the whole member list', async () => {
    const group = await createGroup(acme, 'Put me', [ann.id, bob.id]);
    const res = await acme.put(`/Groups/${group.id}`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Put done',
      members: [{ value: cat.id }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.displayName).toBe('Put done');
    expect(memberValues(res.body)).toEqual([cat.id]);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([cat.id]);
  });

  it('PUT with an unknown member: 400, nothing written', async () => {
    const group = await createGroup(acme, 'Put guarded', [ann.id]);
    const version = await storedVersion(harness.db, 'groups', group.id);
    const res = await acme.put(`/Groups/${group.id}`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Renamed?',
      members: [{ value: UNKNOWN_ID }],
    });
    expectScimError(res, 400);
    expect(res.body.detail).toContain(UNKNOWN_ID);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([ann.id]);
    expect(await storedVersion(harness.db, 'groups', group.id)).toBe(version);
    expect((await acme.get(`/Groups/${group.id}`)).body.displayName).toBe('Put guarded');
  });

  it('PUT with another id in the body: 400 mutability', async () => {
    const group = await createGroup(acme, 'Put id');
    expectScimError(
      await acme.put(`/Groups/${group.id}`, {
        schemas: [GROUP_SCHEMA],
        id: UNKNOWN_ID,
        displayName: 'x',
      }),
      400,
      'mutability',
    );
  });

  it('DELETE removes the group and its memberships: 204, then 404', async () => {
    const group = await createGroup(acme, 'Doomed', [ann.id, bob.id]);
    const res = await acme.delete(`/Groups/${group.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectScimError(await acme.get(`/Groups/${group.id}`), 404);
    expectScimError(await acme.delete(`/Groups/${group.id}`), 404);
    expect(await storedMemberIds(harness.db, acme.tenant.id, group.id)).toEqual([]);
    const annGroups = ((await acme.get(`/Users/${ann.id}`)).body.groups ?? []) as {
      value: string;
    }[];
    expect(annGroups.map((g) => g.value)).not.toContain(group.id);
  });
});
