// What an independent SCIM conformance checker asks of the root search, PATCH and writes with a
// projection (RFC 7644 §3.4.3, §3.5.2, §3.9), on a real server and database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  createGroup,
  createUser,
  ENTERPRISE_SCHEMA,
  expectScimError,
  GROUP_SCHEMA,
  idsOf,
  patchOp,
  resourcesOf,
  searchRequest,
  startScim,
  storedVersion,
  USER_SCHEMA,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

/** An error detail a person reads: no JavaScript or SQL internals. */
function expectNoInternalMessage(body: Body): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(
    /proxy|trap|falsish|is not extensible|Cannot (read|add|set)|undefined|TypeError|\bat [\w.]+ \(/,
  );
}

let scim: ScimHarness;
let other: TenantClient;

beforeAll(async () => {
  scim = await startScim();
  other = await scim.tenant('other');
});
afterAll(() => scim.close());

describe('POST /.search at the root (RFC 7644 §3.4.3)', () => {
  let userIds: string[];
  let groupIds: string[];
  beforeAll(async () => {
    const client = await scim.tenant('root');
    acmeRoot = client;
    userIds = [];
    for (const n of [1, 2, 3])
      userIds.push(
        (
          await createUser(client, `root${n}@example.com`, {
            name: { givenName: `Given${n}`, familyName: `Family${n}` },
            title: 'Engineer',
          })
        ).id,
      );
    groupIds = [
      (await createGroup(client, 'Root group A', [userIds[0] ?? ''])).id,
      (await createGroup(client, 'Root group B')).id,
    ];
  });
  let acmeRoot: TenantClient;

  it.each([
    ['name'],
    ['members'],
    ['name.givenName'],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager'],
  ])('excludes %s from the types that have it, and no other', async (attribute) => {
    const res = await acmeRoot.post('/.search', searchRequest({ excludedAttributes: [attribute] }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.totalResults).toBe(5);
    const resources = resourcesOf(res.body);
    const user = resources.find((r) => r.meta.resourceType === 'User' && r.id === userIds[0]);
    const group = resources.find((r) => r.id === groupIds[0]);
    expect(user).toBeDefined();
    expect(group).toBeDefined();
    if (attribute === 'name') expect(user?.name).toBeUndefined();
    if (attribute === 'name.givenName') expect(user?.name).toEqual({ familyName: 'Family1' });
    if (attribute === 'members') {
      expect(group?.members).toBeUndefined();
      expect(user?.name).toBeDefined();
    } else expect(group?.members).toHaveLength(1);
  });

  it('returns only the attributes asked for, per type, with a mixed list', async () => {
    const res = await acmeRoot.post(
      '/.search',
      searchRequest({ attributes: ['name.givenName', 'title'] }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const resources = resourcesOf(res.body);
    expect(resources).toHaveLength(5);
    const user = resources.find((r) => r.id === userIds[1]);
    expect(user?.name).toEqual({ givenName: 'Given2' });
    expect(user?.title).toBe('Engineer');
    expect(user?.userName).toBeUndefined();
    const group = resources.find((r) => r.id === groupIds[0]);
    expect(group?.id).toBe(groupIds[0]);
    expect(group?.displayName).toBeUndefined();
    expect(group?.members).toBeUndefined();
  });

  it('answers every projection, on each type and at the root, without a 5xx or internal text', async () => {
    const projections = [
      'name.givenName',
      'name.givenName,title',
      'emails.value',
      'emails.value,name',
      'members.value',
      'members.display,displayName',
      'meta.created',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      'groups.display',
      'id',
      'schemas',
    ];
    for (const list of projections) {
      const names = list.split(',');
      for (const key of ['attributes', 'excludedAttributes']) {
        const root = await acmeRoot.post('/.search', searchRequest({ [key]: names }));
        expect(root.status, `${key}=${list} ${JSON.stringify(root.body)}`).toBe(200);
        for (const type of ['/Users', '/Groups']) {
          const res = await acmeRoot.get(`${type}?${key}=${encodeURIComponent(list)}`);
          expect(res.status, `${type} ${key}=${list}`).toBeLessThan(500);
          expectNoInternalMessage(res.body);
        }
      }
    }
  });

  it('answers 400 for an attribute neither type has', async () => {
    for (const params of [
      { attributes: ['nosuch'] },
      { excludedAttributes: ['nosuch.sub'] },
      { excludedAttributes: ['name.nosuch'] },
    ]) {
      const res = await acmeRoot.post('/.search', searchRequest(params));
      expectScimError(res, 400, 'invalidValue');
      expectNoInternalMessage(res.body);
    }
  });

  it('sorts each type by an attribute only it has, and refuses one neither has', async () => {
    const res = await acmeRoot.post(
      '/.search',
      searchRequest({ sortBy: 'userName', sortOrder: 'descending' }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(resourcesOf(res.body).map((r) => r.userName ?? r.displayName)).toEqual([
      'root3@example.com',
      'root2@example.com',
      'root1@example.com',
      expect.any(String),
      expect.any(String),
    ]);
    expectScimError(await acmeRoot.post('/.search', searchRequest({ sortBy: 'nosuch' })), 400);
    expectScimError(
      await acmeRoot.post('/.search', searchRequest({ filter: 'userName eq' })),
      400,
      'invalidFilter',
    );
  });

  it('refuses a startIndex or count that is not a whole number, as the per-type search does', async () => {
    for (const params of [{ startIndex: 'abc' }, { count: 'x' }, { STARTINDEX: '1.5' }]) {
      expectScimError(await acmeRoot.post('/.search', searchRequest(params)), 400, 'invalidValue');
      expectScimError(
        await acmeRoot.post('/Users/.search', searchRequest(params)),
        400,
        'invalidValue',
      );
    }
  });

  it('reads COUNT and STARTINDEX in any case in the root arithmetic too', async () => {
    const res = await acmeRoot.post('/.search', searchRequest({ COUNT: 2, STARTINDEX: 3 }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.startIndex).toBe(3);
    expect(res.body.itemsPerPage).toBe(2);
    // The third user, then the first group.
    expect(resourcesOf(res.body).map((r) => r.meta.resourceType)).toEqual(['User', 'Group']);
    expect(idsOf(res.body)).toHaveLength(2);
    expect(res.body.totalResults).toBe(5);
    const strings = await acmeRoot.post('/.search', searchRequest({ Count: '2', startindex: '2' }));
    expect(strings.status).toBe(200);
    expect(strings.body.startIndex).toBe(2);
    expect(strings.body.itemsPerPage).toBe(2);
  });
});

describe('a write with ?attributes= or ?excludedAttributes= (RFC 7644 §3.9)', () => {
  let client: TenantClient;
  let userId: string;
  let groupId: string;
  beforeAll(async () => {
    client = await scim.tenant('projection');
    userId = (await createUser(client, 'projected@example.com')).id;
    groupId = (await createGroup(client, 'Projected')).id;
  });

  it('refuses an attribute the type does not have before writing anything', async () => {
    const tenantId = client.tenant.id;
    const users = await countRows(scim.db, 'users', tenantId);
    const groups = await countRows(scim.db, 'groups', tenantId);
    const userVersion = await storedVersion(scim.db, 'users', userId);
    const groupVersion = await storedVersion(scim.db, 'groups', groupId);
    const writes = [
      client.post('/Users?attributes=members', {
        schemas: [USER_SCHEMA],
        userName: 'new@example.com',
      }),
      client.post('/Groups?excludedAttributes=userName', {
        schemas: [GROUP_SCHEMA],
        displayName: 'New',
      }),
      client.put(`/Users/${userId}?attributes=nosuch`, {
        schemas: [USER_SCHEMA],
        userName: 'renamed@example.com',
      }),
      client.put(`/Groups/${groupId}?attributes=userName`, {
        schemas: [GROUP_SCHEMA],
        displayName: 'Renamed',
      }),
      client.patch(
        `/Users/${userId}?excludedAttributes=members`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }),
      ),
      client.patch(
        `/Groups/${groupId}?attributes=userName`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }),
      ),
    ];
    for (const write of writes) expectScimError(await write, 400, 'invalidValue');
    expect(await countRows(scim.db, 'users', tenantId)).toBe(users);
    expect(await countRows(scim.db, 'groups', tenantId)).toBe(groups);
    expect(await storedVersion(scim.db, 'users', userId)).toBe(userVersion);
    expect(await storedVersion(scim.db, 'groups', groupId)).toBe(groupVersion);
  });

  it('refuses a /Bulk request whose operation paths carry a query, before running any', async () => {
    const tenantId = client.tenant.id;
    const users = await countRows(scim.db, 'users', tenantId);
    const res = await client.post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'a',
          data: { schemas: [USER_SCHEMA], userName: 'bulk-a@example.com' },
        },
        {
          method: 'POST',
          path: '/Users?attributes=members',
          bulkId: 'b',
          data: { schemas: [USER_SCHEMA], userName: 'bulk-b@example.com' },
        },
      ],
    });
    expectScimError(res, 400);
    expect(await countRows(scim.db, 'users', tenantId)).toBe(users);
    expectScimError(
      await client.post('/Bulk?attributes=members', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
        Operations: [
          {
            method: 'POST',
            path: '/Users',
            bulkId: 'c',
            data: { schemas: [USER_SCHEMA], userName: 'bulk-c@example.com' },
          },
        ],
      }),
      400,
    );
    expect(await countRows(scim.db, 'users', tenantId)).toBe(users);
  });

  it('answers a group PATCH with the resource when attributes is named in any case', async () => {
    const res = await client.patch(
      `/Groups/${groupId}?ATTRIBUTES=displayName`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Projected again' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Projected again');
    expect(res.body.members).toBeUndefined();
  });

  it('still answers a write with a projection it can make', async () => {
    const res = await client.post('/Users?attributes=userName', {
      schemas: [USER_SCHEMA],
      userName: 'shown@example.com',
      displayName: 'Hidden',
    });
    expect(res.status).toBe(201);
    expect(res.body.userName).toBe('shown@example.com');
    expect(res.body.displayName).toBeUndefined();
  });
});

describe('PATCH answers (RFC 7644 §3.5.2)', () => {
  let client: TenantClient;
  beforeAll(async () => {
    client = await scim.tenant('patching');
  });

  it('refuses to remove active (or replace it with null) instead of ignoring it', async () => {
    const user = await createUser(client, 'active@example.com');
    for (const operation of [
      { op: 'remove', path: 'active' },
      { op: 'replace', path: 'active', value: null },
      { op: 'add', path: 'active', value: null },
      { op: 'add', value: { active: null } },
      { op: 'remove', path: 'urn:ietf:params:scim:schemas:core:2.0:User:active' },
    ]) {
      const res = await client.patch(`/Users/${user.id}`, patchOp(operation));
      expectScimError(res, 400, 'mutability');
      expect(res.body.detail).toMatch(/active/);
      expect(res.body.detail).toMatch(/false/);
    }
    expect(await storedVersion(scim.db, 'users', user.id)).toBe(1);
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body.active).toBe(true);
  });

  it('refuses to change schemas, which follows from the attributes, instead of ignoring it', async () => {
    const user = await createUser(client, 'schemas@example.com');
    const group = await createGroup(client, 'Schemas');
    for (const operation of [
      { op: 'remove', path: 'schemas' },
      { op: 'replace', path: 'schemas', value: [USER_SCHEMA] },
      { op: 'add', path: 'schemas', value: [ENTERPRISE_SCHEMA] },
    ]) {
      expectScimError(
        await client.patch(`/Users/${user.id}`, patchOp(operation)),
        400,
        'mutability',
      );
      expectScimError(
        await client.patch(`/Groups/${group.id}`, patchOp(operation)),
        400,
        'mutability',
      );
    }
    expect(await storedVersion(scim.db, 'users', user.id)).toBe(1);
  });

  it('treats " ann@x " and "ann@x" as one userName', async () => {
    const user = await createUser(client, ' spaced@example.com ');
    expectScimError(
      await client.post('/Users', { schemas: [USER_SCHEMA], userName: 'spaced@example.com' }),
      409,
      'uniqueness',
    );
    const filter = encodeURIComponent('userName eq "spaced@example.com"');
    expect(idsOf((await client.get(`/Users?filter=${filter}`)).body)).toEqual([user.id]);
  });

  it('adds and replaces the enterprise extension by its URN, with its own schemas in the value', async () => {
    const user = await createUser(client, 'extension@example.com');
    const add = await client.patch(
      `/Users/${user.id}`,
      patchOp({
        op: 'add',
        path: ENTERPRISE_SCHEMA,
        value: { schemas: [ENTERPRISE_SCHEMA], department: 'Sales', employeeNumber: '7' },
      }),
    );
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(add.body[ENTERPRISE_SCHEMA]).toEqual({ department: 'Sales', employeeNumber: '7' });
    expect(add.body.schemas).toContain(ENTERPRISE_SCHEMA);
    const replace = await client.patch(
      `/Users/${user.id}`,
      patchOp({
        op: 'replace',
        path: ENTERPRISE_SCHEMA,
        value: { schemas: [ENTERPRISE_SCHEMA], department: 'Support' },
      }),
    );
    expect(replace.status, JSON.stringify(replace.body)).toBe(200);
    expect(replace.body[ENTERPRISE_SCHEMA]).toEqual({ department: 'Support', employeeNumber: '7' });
    const read = await client.get(`/Users/${user.id}`);
    expect(read.body[ENTERPRISE_SCHEMA]).toEqual({ department: 'Support', employeeNumber: '7' });
  });

  it.each([
    ['emails.type', 'emails', 'type'],
    ['emails.primary', 'emails', 'primary'],
    ['roles.primary', 'roles', 'primary'],
    ['emails.display', 'emails', 'display'],
  ])('removes %s from every value', async (path, attribute, sub) => {
    const user = await createUser(client, `sub-${path}@example.com`, {
      emails: [
        { value: 'a@example.com', type: 'work', primary: true, display: 'A' },
        { value: 'b@example.com', type: 'home', display: 'B' },
      ],
      roles: [{ value: 'admin', primary: true }, { value: 'reader' }],
    });
    const res = await client.patch(`/Users/${user.id}`, patchOp({ op: 'remove', path }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const values = (await client.get(`/Users/${user.id}`)).body[attribute] as Body[];
    expect(values).toHaveLength(2);
    for (const value of values) {
      expect(value).not.toHaveProperty(sub);
      expect(typeof value.value).toBe('string');
    }
  });

  it('never answers with an internal message', async () => {
    const user = await createUser(client, 'internal@example.com', {
      emails: [{ value: 'a@example.com', type: 'work' }],
    });
    for (const operation of [
      { op: 'remove', path: 'emails.value' },
      { op: 'remove', path: 'name.givenName' },
      { op: 'add', path: 'emails', value: [{ value: 'x@example.com', nosuch: 1 }] },
      { op: 'replace', path: 'name', value: { nosuch: 'x' } },
      { op: 'add', path: ENTERPRISE_SCHEMA, value: { nosuch: 'x' } },
      { op: 'replace', path: 'emails[type eq "work"]', value: { bogus: true } },
    ]) {
      const res = await client.patch(`/Users/${user.id}`, patchOp(operation));
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
      expectNoInternalMessage(res.body);
    }
  });
});

describe('primary values and the manager (RFC 7643 §2.4, §4.3)', () => {
  let client: TenantClient;
  beforeAll(async () => {
    client = await scim.tenant('primaries');
  });

  it('refuses two primary values in a POST or PUT', async () => {
    const twoPrimaries = {
      emails: [
        { value: 'a@example.com', primary: true },
        { value: 'b@example.com', primary: true },
      ],
    };
    const before = await countRows(scim.db, 'users', client.tenant.id);
    const post = await client.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'two@example.com',
      ...twoPrimaries,
    });
    expectScimError(post, 400, 'invalidValue');
    expect(post.body.detail).toMatch(/emails/);
    expect(await countRows(scim.db, 'users', client.tenant.id)).toBe(before);
    const user = await createUser(client, 'one@example.com');
    expectScimError(
      await client.put(`/Users/${user.id}`, {
        schemas: [USER_SCHEMA],
        userName: 'one@example.com',
        phoneNumbers: [
          { value: '+1', primary: true },
          { value: '+2', primary: 'True' },
        ],
      }),
      400,
      'invalidValue',
    );
    expect(await storedVersion(scim.db, 'users', user.id)).toBe(1);
  });

  it('makes a value set primary by PATCH the only primary one (RFC 7644 §3.5.2)', async () => {
    const user = await createUser(client, 'patch-primary@example.com', {
      emails: [{ value: 'a@example.com', type: 'work', primary: true }],
    });
    const res = await client.patch(
      `/Users/${user.id}`,
      patchOp({
        op: 'add',
        path: 'emails',
        value: [{ value: 'b@example.com', type: 'home', primary: true }],
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const emails = (await client.get(`/Users/${user.id}`)).body.emails as Body[];
    expect(emails.filter((e) => e.primary === true).map((e) => String(e.value))).toEqual([
      'b@example.com',
    ]);
    expectScimError(
      await client.patch(
        `/Users/${user.id}`,
        patchOp({
          op: 'add',
          path: 'emails',
          value: [
            { value: 'c@example.com', primary: true },
            { value: 'd@example.com', primary: true },
          ],
        }),
      ),
      400,
      'invalidValue',
    );
  });

  it("accepts a manager of the same tenant only, never another tenant's user or no user", async () => {
    const manager = await createUser(client, 'manager@example.com');
    const outsider = await createUser(other, 'outsider@example.com');
    const ok = await client.post('/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      userName: 'report@example.com',
      [ENTERPRISE_SCHEMA]: { manager: { value: manager.id } },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const before = await countRows(scim.db, 'users', client.tenant.id);
    for (const value of [outsider.id, 'not-a-user', '00000000-0000-4000-8000-000000000000']) {
      const res = await client.post('/Users', {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        userName: `report-${value}@example.com`,
        [ENTERPRISE_SCHEMA]: { manager: { value } },
      });
      expectScimError(res, 400, 'invalidValue');
      expect(res.body.detail).toMatch(/manager/);
    }
    expect(await countRows(scim.db, 'users', client.tenant.id)).toBe(before);
    const report = ok.body as { id: string };
    for (const operation of [
      { op: 'replace', path: `${ENTERPRISE_SCHEMA}:manager`, value: outsider.id },
      { op: 'replace', path: `${ENTERPRISE_SCHEMA}:manager.value`, value: outsider.id },
      { op: 'add', path: ENTERPRISE_SCHEMA, value: { manager: { value: 'nobody' } } },
    ]) {
      expectScimError(
        await client.patch(`/Users/${report.id}`, patchOp(operation)),
        400,
        'invalidValue',
      );
    }
    expectScimError(
      await client.put(`/Users/${report.id}`, {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        userName: 'report@example.com',
        [ENTERPRISE_SCHEMA]: { manager: { value: outsider.id } },
      }),
      400,
      'invalidValue',
    );
    expect(await storedVersion(scim.db, 'users', report.id)).toBe(1);
    // A manager may be removed, and set to a user of the tenant.
    const removed = await client.patch(
      `/Users/${report.id}`,
      patchOp({ op: 'remove', path: `${ENTERPRISE_SCHEMA}:manager` }),
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
  });

  it('keeps a manager deprovisioned since, until the IdP changes it', async () => {
    const manager = await createUser(client, 'leaving-manager@example.com');
    const report = await createUser(client, 'staying-report@example.com', {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      [ENTERPRISE_SCHEMA]: { manager: { value: manager.id } },
    });
    expect((await client.delete(`/Users/${manager.id}`)).status).toBe(204);
    const patched = await client.patch(
      `/Users/${report.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Still here' }),
    );
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const put = await client.put(`/Users/${report.id}`, {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      userName: 'staying-report@example.com',
      [ENTERPRISE_SCHEMA]: { manager: { value: manager.id } },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });
});

describe('filter strings are JSON strings (RFC 7644 §3.4.2.2)', () => {
  it('finds a user by a userName written with \\u escapes, and refuses U+0000', async () => {
    const client = await scim.tenant('escapes');
    const user = await createUser(client, 'ann@example.com');
    const filter = encodeURIComponent(String.raw`userName eq "ann\u0040example.com"`);
    const res = await client.get(`/Users?filter=${filter}`);
    expect(res.status).toBe(200);
    expect(idsOf(res.body)).toEqual([user.id]);
    const nul = encodeURIComponent(String.raw`userName eq "ann\u0000"`);
    expectScimError(await client.get(`/Users?filter=${nul}`), 400, 'invalidFilter');
  });
});
