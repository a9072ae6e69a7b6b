// /Bulk (RFC 7644 §3.7) on the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BULK_REQUEST_SCHEMA,
  BULK_RESPONSE_SCHEMA,
  countRows,
  createUser,
  ERROR_SCHEMA,
  expectScimError,
  GROUP_SCHEMA,
  patchOp,
  startScim,
  storedMemberIds,
  USER_SCHEMA,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

const WEAK_ETAG = /^W\/"[^"]+"$/;

let harness: ScimHarness;
let acme: TenantClient;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
});
afterAll(() => harness.close());

type Json = Record<string, unknown>;

/** One answer of a BulkResponse (RFC 7644 §3.7.3). */
interface BulkResult {
  readonly method: string;
  readonly bulkId?: string;
  readonly status: string;
  readonly location?: string;
  readonly version?: string;
  readonly response?: { schemas: string[]; status: string; scimType?: string; detail: string };
}
const operationsOf = (body: Body): BulkResult[] =>
  (body as { Operations: BulkResult[] }).Operations;

const bulk = (Operations: Json[], extra: Json = {}) =>
  acme.post('/Bulk', { schemas: [BULK_REQUEST_SCHEMA], Operations, ...extra });

const postUser = (bulkId: string, userName: string): Json => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: { schemas: [USER_SCHEMA], userName },
});

const userExists = async (userName: string) =>
  (await acme.get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).body
    .totalResults === 1;

const idFromLocation = (location: string) => location.split('/').pop() ?? '';

describe('bulkId references (RFC 7644 §3.7.2)', () => {
  it('creates a user and a group whose member is bulkId:<the user>', async () => {
    const res = await bulk([
      postUser('u1', 'bulk-ann@acme.test'),
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g1',
        data: {
          schemas: [GROUP_SCHEMA],
          displayName: 'Bulk group',
          members: [{ value: 'bulkId:u1', type: 'User' }],
        },
      },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([BULK_RESPONSE_SCHEMA]);
    const [user, group] = res.body.Operations as Body[];
    expect(user).toMatchObject({ method: 'POST', bulkId: 'u1', status: '201' });
    expect(group).toMatchObject({ method: 'POST', bulkId: 'g1', status: '201' });
    expect(user.location).toMatch(new RegExp(`^${acme.baseUrl}/Users/[0-9a-f-]{36}$`));
    expect(group.location).toMatch(new RegExp(`^${acme.baseUrl}/Groups/[0-9a-f-]{36}$`));
    expect(user.version).toMatch(WEAK_ETAG);
    expect(group.version).toMatch(WEAK_ETAG);
    const userId = idFromLocation(user.location);
    const groupId = idFromLocation(group.location);
    expect(await storedMemberIds(harness.db, acme.tenant.id, groupId)).toEqual([userId]);
    const read = await acme.get(`/Users/${userId}`);
    expect(read.body.userName).toBe('bulk-ann@acme.test');
    expect(read.body.meta.version).toBe(user.version);
  });

  it('resolves a reference to a POST that comes later in the request', async () => {
    const res = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g2',
        data: {
          schemas: [GROUP_SCHEMA],
          displayName: 'Forward group',
          members: [{ value: 'bulkId:u2' }],
        },
      },
      postUser('u2', 'bulk-bob@acme.test'),
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [group, user] = res.body.Operations as Body[];
    // Answers keep the request's order.
    expect(group).toMatchObject({ bulkId: 'g2', status: '201' });
    expect(user).toMatchObject({ bulkId: 'u2', status: '201' });
    expect(
      await storedMemberIds(harness.db, acme.tenant.id, idFromLocation(group.location)),
    ).toEqual([idFromLocation(user.location)]);
  });

  it('resolves a bulkId in a path, and discards a password sent in a bulk POST', async () => {
    const password = 'Bulk-Secret-Passw0rd!';
    const res = await bulk([
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'u5',
        data: { schemas: [USER_SCHEMA], userName: 'bulk-path@acme.test', password },
      },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g5',
        data: { schemas: [GROUP_SCHEMA], displayName: 'Path group' },
      },
      {
        method: 'PATCH',
        path: '/Groups/bulkId:g5',
        data: patchOp({ op: 'add', path: 'members', value: [{ value: 'bulkId:u5' }] }),
      },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [user, group, patch] = res.body.Operations as Body[];
    expect([user.status, group.status]).toEqual(['201', '201']);
    expect(['200', '204']).toContain(patch.status);
    expect(patch.location).toBe(group.location);
    expect(res.text).not.toContain(password);
    expect(
      await storedMemberIds(harness.db, acme.tenant.id, idFromLocation(group.location)),
    ).toEqual([idFromLocation(user.location)]);
    const row = await harness.db
      .selectFrom('users')
      .select(['scim_resource', 'password_hash'])
      .where('id', '=', idFromLocation(user.location))
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
    expect(JSON.stringify(row.scim_resource)).not.toContain(password);
  });

  it('answers a reference that cannot be resolved with an error for that operation', async () => {
    const before = await countRows(harness.db, 'groups', acme.tenant.id);
    const res = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g3',
        data: {
          schemas: [GROUP_SCHEMA],
          displayName: 'Dangling',
          members: [{ value: 'bulkId:nowhere' }],
        },
      },
    ]);
    expect(res.status).toBe(200);
    const [op] = res.body.Operations as Body[];
    expect(op.status).toMatch(/^4\d\d$/);
    expect(op.response.schemas).toEqual([ERROR_SCHEMA]);
    expect(op.response.status).toBe(op.status);
    expect(await countRows(harness.db, 'groups', acme.tenant.id)).toBe(before);
  });
});

describe('PUT, PATCH and DELETE in a bulk request', () => {
  it('runs each with its status, location and version', async () => {
    const user = await createUser(acme, 'bulk-edit@acme.test');
    const victim = await createUser(acme, 'bulk-victim@acme.test');
    const res = await bulk([
      {
        method: 'PUT',
        path: `/Users/${user.id}`,
        data: { schemas: [USER_SCHEMA], userName: 'bulk-edit@acme.test', displayName: 'Put' },
      },
      {
        method: 'PATCH',
        path: `/Users/${user.id}`,
        data: patchOp({ op: 'replace', path: 'title', value: 'Patched' }),
      },
      { method: 'DELETE', path: `/Users/${victim.id}` },
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [put, patch, del] = res.body.Operations as Body[];
    expect(put).toMatchObject({
      method: 'PUT',
      status: '200',
      location: `${acme.baseUrl}/Users/${user.id}`,
    });
    expect(patch).toMatchObject({
      method: 'PATCH',
      status: '200',
      location: `${acme.baseUrl}/Users/${user.id}`,
    });
    expect(put.version).toMatch(WEAK_ETAG);
    expect(patch.version).toMatch(WEAK_ETAG);
    expect(patch.version).not.toBe(put.version);
    expect(del).toMatchObject({ method: 'DELETE', status: '204' });
    const read = await acme.get(`/Users/${user.id}`);
    expect(read.body).toMatchObject({ displayName: 'Put', title: 'Patched' });
    expect(read.body.meta.version).toBe(patch.version);
    expectScimError(await acme.get(`/Users/${victim.id}`), 404);
  });

  it("honours an operation's version as its If-Match: a stale one is 412 for that operation", async () => {
    const user = await createUser(acme, 'bulk-version@acme.test');
    await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'title', value: 'moved' }),
    );
    const res = await bulk([
      {
        method: 'PATCH',
        path: `/Users/${user.id}`,
        version: user.meta.version,
        data: patchOp({ op: 'replace', path: 'displayName', value: 'Lost' }),
      },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.Operations[0]).toMatchObject({ method: 'PATCH', status: '412' });
    expect(res.body.Operations[0].response.status).toBe('412');
    expect((await acme.get(`/Users/${user.id}`)).body.displayName).toBeUndefined();
  });

  it('names the resource of a failed PUT, PATCH or DELETE in its location (RFC 7644 §3.7.3)', async () => {
    const user = await createUser(acme, 'bulk-failed-location@acme.test');
    const missing = '00000000-0000-4000-8000-000000000000';
    const res = await bulk([
      {
        method: 'PATCH',
        path: `/Users/${user.id}`,
        version: 'W/"999"',
        data: patchOp({ op: 'replace', path: 'displayName', value: 'x' }),
      },
      { method: 'DELETE', path: `/Users/${missing}` },
    ]);
    expect(res.status).toBe(200);
    const [patch, del] = res.body.Operations as Body[];
    // `location` is required in every answer except a failed POST's.
    expect(patch).toMatchObject({ status: '412', location: `${acme.baseUrl}/Users/${user.id}` });
    expect(del).toMatchObject({ status: '404', location: `${acme.baseUrl}/Users/${missing}` });
  });
});

describe('errors inside a bulk request', () => {
  it('keeps earlier operations when a later one fails: each operation is atomic on its own', async () => {
    await createUser(acme, 'taken@acme.test');
    const res = await bulk([
      postUser('a1', 'atomic-one@acme.test'),
      postUser('a2', 'TAKEN@acme.test'),
      postUser('a3', 'atomic-three@acme.test'),
    ]);
    expect(res.status).toBe(200);
    const [one, two, three] = res.body.Operations as Body[];
    expect(one.status).toBe('201');
    expect(two).toMatchObject({ bulkId: 'a2', status: '409' });
    expect(two.response).toMatchObject({
      schemas: [ERROR_SCHEMA],
      status: '409',
      scimType: 'uniqueness',
    });
    expect(two.location).toBeUndefined();
    expect(three.status).toBe('201');
    expect(await userExists('atomic-one@acme.test')).toBe(true);
    expect(await userExists('atomic-three@acme.test')).toBe(true);
  });

  it('answers invalid data in an operation with 400 invalidValue for that operation, not 500', async () => {
    const res = await bulk([
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'nameless',
        data: { schemas: [USER_SCHEMA], displayName: 'No userName' },
      },
      {
        method: 'POST',
        path: '/Users',
        bulkId: 'mistyped',
        data: { schemas: [USER_SCHEMA], userName: 'mistyped@acme.test', active: 'nope' },
      },
      postUser('valid', 'valid-after-invalid@acme.test'),
    ]);
    expect(res.status).toBe(200);
    const [nameless, mistyped, valid] = res.body.Operations as Body[];
    for (const op of [nameless, mistyped]) {
      expect(op.status, JSON.stringify(op)).toBe('400');
      expect(op.response).toMatchObject({ status: '400', scimType: 'invalidValue' });
    }
    expect(valid.status).toBe('201');
    expect(await userExists('mistyped@acme.test')).toBe(false);
  });

  it('stops after failOnErrors errors; later operations are not run', async () => {
    await createUser(acme, 'dup-1@acme.test');
    await createUser(acme, 'dup-2@acme.test');
    const res = await bulk(
      [
        postUser('f1', 'fail-one@acme.test'),
        postUser('f2', 'dup-1@acme.test'),
        postUser('f3', 'fail-three@acme.test'),
        postUser('f4', 'dup-2@acme.test'),
        postUser('f5', 'fail-five@acme.test'),
      ],
      { failOnErrors: 2 },
    );
    expect(res.status).toBe(200);
    const statuses = operationsOf(res.body).map((op) => [op.bulkId, op.status]);
    expect(statuses).toEqual([
      ['f1', '201'],
      ['f2', '409'],
      ['f3', '201'],
      ['f4', '409'],
    ]);
    expect(await userExists('fail-three@acme.test')).toBe(true);
    expect(await userExists('fail-five@acme.test')).toBe(false);

    const first = await bulk(
      [postUser('s1', 'dup-1@acme.test'), postUser('s2', 'never@acme.test')],
      {
        failOnErrors: 1,
      },
    );
    expect(operationsOf(first.body).map((op) => op.status)).toEqual(['409']);
    expect(await userExists('never@acme.test')).toBe(false);
  });

  it('refuses more operations than maxOperations with 413, running none', async () => {
    const spc = (await acme.get('/ServiceProviderConfig')).body;
    const max: number = spc.bulk.maxOperations;
    const before = await countRows(harness.db, 'users', acme.tenant.id);
    const operations = Array.from({ length: max + 1 }, (_, i) => postUser(`m${i}`, `m${i}@x.test`));
    expectScimError(await bulk(operations), 413);
    expect(await countRows(harness.db, 'users', acme.tenant.id)).toBe(before);
  });

  it('refuses a request larger than maxPayloadSize with 413, running none', async () => {
    const spc = (await acme.get('/ServiceProviderConfig')).body;
    const maxPayload: number = spc.bulk.maxPayloadSize;
    const before = await countRows(harness.db, 'users', acme.tenant.id);
    const res = await bulk([
      {
        ...postUser('big', 'big@acme.test'),
        data: {
          schemas: [USER_SCHEMA],
          userName: 'big@acme.test',
          displayName: 'x'.repeat(maxPayload),
        },
      },
    ]);
    expectScimError(res, 413);
    expect(await countRows(harness.db, 'users', acme.tenant.id)).toBe(before);
  });

  it('refuses a malformed bulk request (no BulkRequest schema, a POST without bulkId) with 400', async () => {
    expectScimError(await acme.post('/Bulk', { Operations: [postUser('x', 'x@acme.test')] }), 400);
    const before = await countRows(harness.db, 'users', acme.tenant.id);
    expectScimError(
      await bulk([
        postUser('ok', 'ok-but-not-run@acme.test'),
        {
          method: 'POST',
          path: '/Users',
          data: { schemas: [USER_SCHEMA], userName: 'no-bulk-id@acme.test' },
        },
      ]),
      400,
    );
    expect(await countRows(harness.db, 'users', acme.tenant.id)).toBe(before);
  });
});
