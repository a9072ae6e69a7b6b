// versions as weak ETags, If-Match and If-None-Match (RFC 7644 §3.14).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGroup,
  createUser,
  expectScimError,
  patchOp,
  startScim,
  storedVersion,
  USER_SCHEMA,
  GROUP_SCHEMA,
  resourcesOf,
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

describe('meta.version and the ETag header', () => {
  it('gives every user and group a weak ETag equal to meta.version, on every answer', async () => {
    const created = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'etag@acme.test',
    });
    expect(created.status).toBe(201);
    expect(created.body.meta.version).toMatch(WEAK_ETAG);
    expect(created.headers.etag).toBe(created.body.meta.version);

    const read = await acme.get(`/Users/${created.body.id}`);
    expect(read.headers.etag).toBe(read.body.meta.version);
    expect(read.body.meta.version).toBe(created.body.meta.version);

    const group = await acme.post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Etag group',
      members: [{ value: created.body.id }],
    });
    expect(group.status).toBe(201);
    expect(group.body.meta.version).toMatch(WEAK_ETAG);
    expect(group.headers.etag).toBe(group.body.meta.version);
    const groupRead = await acme.get(`/Groups/${group.body.id}`);
    expect(groupRead.headers.etag).toBe(groupRead.body.meta.version);

    for (const path of ['/Users', '/Groups']) {
      const list = await acme.get(path);
      expect(list.body.Resources.length).toBeGreaterThan(0);
      for (const resource of resourcesOf(list.body))
        expect(resource.meta.version).toMatch(WEAK_ETAG);
    }
  });

  it('changes the version at each write', async () => {
    const user = await createUser(acme, 'versions@acme.test');
    const put = await acme.put(`/Users/${user.id}`, {
      schemas: [USER_SCHEMA],
      userName: 'versions@acme.test',
      displayName: 'One',
    });
    expect(put.status).toBe(200);
    expect(put.headers.etag).toBe(put.body.meta.version);
    expect(put.body.meta.version).not.toBe(user.meta.version);
    const patched = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Two' }),
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe(patched.body.meta.version);
    expect(
      new Set([user.meta.version, put.body.meta.version, patched.body.meta.version]).size,
    ).toBe(3);
  });
});

describe('If-None-Match on GET', () => {
  it('answers 304 without a body for the current version, 200 for an old one', async () => {
    const user = await createUser(acme, 'cache@acme.test');
    const notModified = await acme.get(`/Users/${user.id}`).set('If-None-Match', user.meta.version);
    expect(notModified.status).toBe(304);
    expect(notModified.text ?? '').toBe('');
    expect(notModified.headers.etag).toBe(user.meta.version);

    await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'New' }),
    );
    const modified = await acme.get(`/Users/${user.id}`).set('If-None-Match', user.meta.version);
    expect(modified.status).toBe(200);
    expect(modified.body.displayName).toBe('New');

    const group = await createGroup(acme, 'Cached group');
    const groupNotModified = await acme
      .get(`/Groups/${group.id}`)
      .set('If-None-Match', group.meta.version);
    expect(groupNotModified.status).toBe(304);
  });
});

describe('If-Match on writes', () => {
  it('PUT: a stale version is 412 and writes nothing; the current one is 200', async () => {
    const user = await createUser(acme, 'put-match@acme.test', { displayName: 'Original' });
    await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'title', value: 'moved on' }),
    );
    const stored = await storedVersion(harness.db, 'users', user.id);
    const stale = await acme
      .put(`/Users/${user.id}`, {
        schemas: [USER_SCHEMA],
        userName: 'put-match@acme.test',
        displayName: 'Lost',
      })
      .set('If-Match', user.meta.version);
    expectScimError(stale, 412);
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(stored);
    const current = (await acme.get(`/Users/${user.id}`)).body;
    expect(current.displayName).toBe('Original');

    const fresh = await acme
      .put(`/Users/${user.id}`, {
        schemas: [USER_SCHEMA],
        userName: 'put-match@acme.test',
        displayName: 'Won',
      })
      .set('If-Match', current.meta.version);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(fresh.body.displayName).toBe('Won');
    expect(fresh.headers.etag).not.toBe(current.meta.version);
  });

  it('PATCH of a user: a stale version is 412 and writes nothing; the current one is 200', async () => {
    const user = await createUser(acme, 'patch-match@acme.test', { displayName: 'Original' });
    const moved = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'title', value: 'x' }),
    );
    const stale = await acme
      .patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Lost' }))
      .set('If-Match', user.meta.version);
    expectScimError(stale, 412);
    expect((await acme.get(`/Users/${user.id}`)).body.displayName).toBe('Original');
    const fresh = await acme
      .patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Won' }))
      .set('If-Match', moved.body.meta.version);
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(fresh.body.displayName).toBe('Won');
  });

  it('PATCH and PUT of a group: a stale version is 412, members unchanged', async () => {
    const ann = await createUser(acme, 'ann-match@acme.test');
    const group = await createGroup(acme, 'Match group');
    const renamed = await acme
      .patch(
        `/Groups/${group.id}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Renamed' }),
      )
      .set('If-Match', group.meta.version);
    expect([200, 204], JSON.stringify(renamed.body)).toContain(renamed.status);
    expect(renamed.headers.etag).toMatch(WEAK_ETAG);
    expect(renamed.headers.etag).not.toBe(group.meta.version);

    const stale = await acme
      .patch(
        `/Groups/${group.id}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: ann.id }] }),
      )
      .set('If-Match', group.meta.version);
    expectScimError(stale, 412);
    const stalePut = await acme
      .put(`/Groups/${group.id}`, {
        schemas: [GROUP_SCHEMA],
        displayName: 'Lost',
        members: [{ value: ann.id }],
      })
      .set('If-Match', group.meta.version);
    expectScimError(stalePut, 412);
    const current = await acme.get(`/Groups/${group.id}`);
    expect(current.body.displayName).toBe('Renamed');
    expect(current.body.members ?? []).toEqual([]);
    expect(current.headers.etag).toBe(renamed.headers.etag);
  });

  it('DELETE: a stale version is 412 and the user stays', async () => {
    const user = await createUser(acme, 'delete-match@acme.test');
    const moved = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'title', value: 'x' }),
    );
    const stale = await acme.delete(`/Users/${user.id}`).set('If-Match', user.meta.version);
    expectScimError(stale, 412);
    expect((await acme.get(`/Users/${user.id}`)).status).toBe(200);
    const fresh = await acme.delete(`/Users/${user.id}`).set('If-Match', moved.body.meta.version);
    expect(fresh.status).toBe(204);
  });

  it('DELETE of a group: a stale version is 412 and the group stays', async () => {
    const group = await createGroup(acme, 'Delete match');
    const renamed = await acme.patch(
      `/Groups/${group.id}?excludedAttributes=members`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Renamed before delete' }),
    );
    expect(renamed.status).toBe(200);
    expectScimError(
      await acme.delete(`/Groups/${group.id}`).set('If-Match', group.meta.version),
      412,
    );
    expect((await acme.get(`/Groups/${group.id}`)).status).toBe(200);
    const fresh = await acme
      .delete(`/Groups/${group.id}`)
      .set('If-Match', renamed.body.meta.version);
    expect(fresh.status).toBe(204);
  });

  it('refuses an entity tag this server never issued with 412', async () => {
    const user = await createUser(acme, 'foreign-tag@acme.test');
    expectScimError(
      await acme
        .patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'x' }))
        .set('If-Match', '"some-other-tag"'),
      412,
    );
    const star = await acme
      .patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'y' }))
      .set('If-Match', '*');
    expect(star.status).toBe(200);
  });
});
