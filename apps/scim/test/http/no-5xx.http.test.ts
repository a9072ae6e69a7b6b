// No input gives a 5xx: what PostgreSQL would refuse (impossible dates, unstorable text, rows too
// big for an index, too many bind parameters) and what would exhaust the stack (deep nesting) is
// a 400 naming the limit, and nothing is written.
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  listScimRequests,
  MAX_INDEXED_TEXT_LENGTH,
  MAX_JSON_DEPTH,
  MAX_VALUES_PER_ATTRIBUTE,
} from '@roster/core';
import {
  BULK_REQUEST_SCHEMA,
  countRows,
  createGroup,
  createUser,
  expectScimError,
  groupBody,
  patchOp,
  SCIM_JSON,
  searchRequest,
  startScim,
  storedVersion,
  userBody,
  type ScimHarness,
  USER_SCHEMA,
  type TenantClient,
} from './setup.js';

let harness: ScimHarness;
let acme: TenantClient;

beforeAll(async () => {
  // With the request log on: a refused request must be kept like any other.
  harness = await startScim({ scimLogRetentionDays: 7, scimRateLimit: null });
  acme = await harness.tenant('acme');
});
afterAll(() => harness.close());

/** Random base64: text that does not compress, as an index entry would have to hold it. */
const incompressible = (length: number) => randomBytes(length).toString('base64').slice(0, length);

/** Runs a request that must be refused and checks it wrote no user, group, member or audit event. */
async function writesNothing(run: () => Promise<void>) {
  const tables = ['users', 'groups', 'group_members', 'audit_events'] as const;
  const before = await Promise.all(tables.map((t) => countRows(harness.db, t, acme.tenant.id)));
  await run();
  const after = await Promise.all(tables.map((t) => countRows(harness.db, t, acme.tenant.id)));
  expect(after).toEqual(before);
}

const detailOf = (res: request.Response) => String((res.body as { detail?: unknown }).detail);

describe('impossible dates (PostgreSQL refuses what Date.parse rolls over)', () => {
  it.each([
    ['Users', 'meta.created gt "2024-02-30T00:00:00Z"', '2024-02-30T00:00:00Z'],
    ['Users', 'meta.created gt "0000-01-01T00:00:00Z"', '0000-01-01T00:00:00Z'],
    ['Users', 'meta.lastModified le "2023-02-29T10:00:00+01:00"', '2023-02-29T10:00:00+01:00'],
    ['Groups', 'meta.created lt "2024-06-31T00:00:00Z"', '2024-06-31T00:00:00Z'],
    ['Users', 'meta.created ge "2024-01-01T24:00:00Z"', '2024-01-01T24:00:00Z'],
  ])('GET /%s?filter=%s is 400 invalidFilter naming the value', async (type, filter, value) => {
    const res = await acme.get(`/${type}?filter=${encodeURIComponent(filter)}`);
    expectScimError(res, 400, 'invalidFilter');
    expect(detailOf(res)).toContain(value);
  });

  it('the same in a POST /.search', async () => {
    const res = await acme.post(
      '/.search',
      searchRequest({ filter: 'meta.created gt "2024-02-30T00:00:00Z"' }),
    );
    expectScimError(res, 400, 'invalidFilter');
  });
});

describe('deep nesting', () => {
  it('a filter nested deeper than the depth limit is 400 invalidFilter naming it', async () => {
    let filter = 'userName eq "x"';
    for (let i = 0; i < 150; i++) filter = `not (${filter})`;
    expect(filter.length).toBeLessThan(4096);
    const res = await acme.get(`/Users?filter=${encodeURIComponent(filter)}`);
    expectScimError(res, 400, 'invalidFilter');
    expect(detailOf(res)).toContain('depth limit');
  });

  it('a filter nested within the limit is answered', async () => {
    let filter = 'userName eq "x"';
    for (let i = 0; i < 15; i++) filter = `not (${filter})`;
    const res = await acme.get(`/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
  });

  const deepArray = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

  it('a body of 10,000 nested arrays is 400 naming the JSON nesting limit', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Users')
        .set('Content-Type', SCIM_JSON)
        .send(`{"schemas":["${USER_SCHEMA}"],"userName":"deep","x":${deepArray(10_000)}}`);
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain(`${MAX_JSON_DEPTH} levels`);
    });
  });

  it('inside a /Bulk operation too: a 400, not a failed request', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Bulk')
        .set('Content-Type', SCIM_JSON)
        .send(
          `{"schemas":["${BULK_REQUEST_SCHEMA}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"deep","x":${deepArray(10_000)}}}]}`,
        );
      expectScimError(res, 400, 'invalidValue');
    });
  });

  it('in a PATCH value', async () => {
    const user = await createUser(acme, 'patch-deep@acme.test');
    const res = await acme
      .raw('patch', `/Users/${user.id}`)
      .set('Content-Type', SCIM_JSON)
      .send(
        `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":${deepArray(5_000)}}]}`,
      );
    expectScimError(res, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(1);
  });
});

describe('lone surrogates (not characters: jsonb and UTF-8 cannot hold them)', () => {
  const LONE = '\ud800';

  it('in userName through POST', async () => {
    await writesNothing(async () => {
      const res = await acme.post('/Users', userBody(`ann${LONE}@acme.test`));
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain('userName');
    });
  });

  it('through PUT and PATCH, leaving the user as it was', async () => {
    const user = await createUser(acme, 'surrogate@acme.test');
    const put = await acme.put(
      `/Users/${user.id}`,
      userBody('surrogate@acme.test', { displayName: `Ann ${LONE}` }),
    );
    expectScimError(put, 400, 'invalidValue');
    const patch = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'name.givenName', value: `\udc00Ann` }),
    );
    expectScimError(patch, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(1);
    const group = await createGroup(acme, 'Surrogates');
    const groupPatch = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: `G${LONE}` }),
    );
    expectScimError(groupPatch, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'groups', group.id)).toBe(1);
  });

  it('through /Bulk', async () => {
    await writesNothing(async () => {
      const res = await acme.post('/Bulk', {
        schemas: [BULK_REQUEST_SCHEMA],
        Operations: [
          { method: 'POST', path: '/Users', bulkId: 'a', data: userBody(`bulk${LONE}@acme.test`) },
        ],
      });
      expectScimError(res, 400, 'invalidValue');
    });
  });

  it('in an attribute the server ignores: refused all the same, nothing created', async () => {
    await writesNothing(async () => {
      const res = await acme.post('/Users', userBody('ignored@acme.test', { nickname2: LONE }));
      expectScimError(res, 400, 'invalidValue');
    });
  });
});

describe('the request log keeps requests whatever text they carry', () => {
  it('keeps a request with a lone surrogate in an ignored attribute (U+FFFD in its place)', async () => {
    const res = await acme.post('/Users', userBody('logged@acme.test', { nickname2: '\ud800' }));
    expectScimError(res, 400, 'invalidValue');
    const requestId = String(res.headers['x-request-id']);
    const entry = await vi.waitFor(
      async () => {
        const found = (await listScimRequests(harness.db, acme.tenant.id, { limit: 500 })).find(
          (e) => e.requestId === requestId,
        );
        expect(found).toBeDefined();
        return found;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(entry?.status).toBe(400);
    expect(entry?.requestBody).toMatchObject({ nickname2: '\uFFFD' });
  });
});

describe(`indexed text over ${MAX_INDEXED_TEXT_LENGTH} characters (a btree entry holds ~2.7 KB)`, () => {
  const long = () => incompressible(4000);
  it.each([
    ['userName', () => userBody(long())],
    ['externalId', () => userBody('ext@acme.test', { externalId: long() })],
    ['emails[0].value', () => userBody('mail@acme.test', { emails: [{ value: long() }] })],
    ['displayName', () => userBody('dn@acme.test', { displayName: long() })],
  ])('a user whose %s is 4,000 random characters is 400 naming the limit', async (field, body) => {
    await writesNothing(async () => {
      const res = await acme.post('/Users', body());
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain(field);
      expect(detailOf(res)).toContain(String(MAX_INDEXED_TEXT_LENGTH));
    });
  });

  it('a group whose displayName or externalId is too long, by POST and PATCH', async () => {
    await writesNothing(async () => {
      expectScimError(await acme.post('/Groups', groupBody(long())), 400, 'invalidValue');
      expectScimError(
        await acme.post('/Groups', groupBody('Ext', [], { externalId: long() })),
        400,
        'invalidValue',
      );
    });
    const group = await createGroup(acme, 'Renamed');
    const res = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: long() }),
    );
    expectScimError(res, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'groups', group.id)).toBe(1);
  });

  it('a userName of exactly the limit is stored and reads back', async () => {
    const userName = incompressible(MAX_INDEXED_TEXT_LENGTH);
    const user = await createUser(acme, userName);
    const res = await acme.get(`/Users/${user.id}`);
    expect(res.status).toBe(200);
    expect((res.body as { userName: string }).userName).toBe(userName);
  });
});

describe(`values per attribute (at most ${MAX_VALUES_PER_ATTRIBUTE})`, () => {
  const emails = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ value: `e${i}@acme.test`, type: 'work' }));

  it('10,000 emails in one POST (under 1 MiB) is 400 naming the limit', async () => {
    await writesNothing(async () => {
      const res = await acme.post('/Users', userBody('many@acme.test', { emails: emails(10_000) }));
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain('emails');
      expect(detailOf(res)).toContain(String(MAX_VALUES_PER_ATTRIBUTE));
    });
  });

  it('too many phoneNumbers, or emails added by PATCH, likewise', async () => {
    const phones = Array.from({ length: MAX_VALUES_PER_ATTRIBUTE + 1 }, (_, i) => ({
      value: `+1555000${i}`,
    }));
    await writesNothing(async () => {
      const res = await acme.post('/Users', userBody('phones@acme.test', { phoneNumbers: phones }));
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain('phoneNumbers');
    });
    const user = await createUser(acme, 'patched-mails@acme.test');
    const res = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'add', path: 'emails', value: emails(MAX_VALUES_PER_ATTRIBUTE + 1) }),
    );
    expectScimError(res, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(1);
  });

  it(`${MAX_VALUES_PER_ATTRIBUTE} emails are stored and read back`, async () => {
    const user = await createUser(acme, 'hundred@acme.test', {
      emails: emails(MAX_VALUES_PER_ATTRIBUTE),
    });
    const res = await acme.get(`/Users/${user.id}`);
    expect((res.body as { emails: unknown[] }).emails).toHaveLength(MAX_VALUES_PER_ATTRIBUTE);
  });

  it('a group member change over the members limit is 400 naming it, by POST, PUT and PATCH', async () => {
    const ids = Array.from({ length: 10_001 }, () => randomUUID());
    await writesNothing(async () => {
      const res = await acme.post('/Groups', groupBody('Huge', ids));
      expectScimError(res, 400, 'invalidValue');
      expect(detailOf(res)).toContain('10000');
    });
    const group = await createGroup(acme, 'Huge later');
    const put = await acme.put(`/Groups/${group.id}`, groupBody('Huge later', ids));
    expectScimError(put, 400, 'invalidValue');
    // removals are not looked up, but they count against the same limit
    const removeMany = Array.from({ length: 15_000 }, () => randomUUID());
    const patch = await acme.patch(
      `/Groups/${group.id}`,
      patchOp({ op: 'remove', path: 'members', value: removeMany.map((value) => ({ value })) }),
    );
    expectScimError(patch, 400, 'invalidValue');
    expect(await storedVersion(harness.db, 'groups', group.id)).toBe(1);
  });
});

describe('bad percent-encoding in a path segment', () => {
  it.each(['/scim/v2/%FF/Users', '/scim/v2/%E0%A4%A/Users', '/scim/v2/%FF/ServiceProviderConfig'])(
    '%s without credentials is 400',
    async (path) => {
      const res = await request(harness.app).get(path);
      expectScimError(res, 400);
    },
  );

  it.each(['/Users/%FF', '/Groups/%C0%AF', '/Users/%ED%A0%80'])(
    '%s with a token is 400',
    async (path) => {
      const res = await acme.get(path);
      expectScimError(res, 400);
      expect(detailOf(res)).toContain('percent-encoded');
    },
  );
});
