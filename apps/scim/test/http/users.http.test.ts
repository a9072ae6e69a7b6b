// rules 1, 4 and 5 through SCIM: /Users on the real server.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityKey, signInWithSaml, type ChangeContext } from '@roster/core';
import {
  countRows,
  createUser,
  ENTERPRISE_SCHEMA,
  expectScimError,
  patchOp,
  startScim,
  storedVersion,
  USER_SCHEMA,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

const PASSWORD = 'Sup3r-Secret-Passw0rd!';
const idp: ChangeContext = { actor: { type: 'idp', id: 'okta' } };

let harness: ScimHarness;
let acme: TenantClient;
let idpId: string;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
  ({ id: idpId } = await harness.db
    .insertInto('saml_idps')
    .values({
      tenant_id: acme.tenant.id,
      name: 'okta',
      entity_id: 'https://idp.example.test/acme',
      sso_url: 'https://idp.example.test/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow());
});
afterAll(() => harness.close());

/** Everything the database keeps about users: the password must be in none of it. */
async function storedTextMentioning(needle: string): Promise<string[]> {
  const { rows } = await sql<{ source: string; text: string }>`
    select 'users' as source, row_to_json(u)::text as text from users u
    union all select 'audit_events', row_to_json(a)::text from audit_events a
    union all select 'change_outbox', row_to_json(o)::text from change_outbox o
  `.execute(harness.db);
  return rows.filter((r) => r.text.includes(needle)).map((r) => r.source);
}

async function passwordColumns(id: string) {
  const { rows } = await sql<{ scim_resource: string; password_hash: string | null }>`
    select scim_resource::text as scim_resource, password_hash from users where id = ${id}
  `.execute(harness.db);
  return rows[0];
}

const fullUser = (userName: string, managerId?: string): Body => ({
  schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
  userName,
  externalId: `ext-${userName}`,
  name: { givenName: 'Ann', familyName: 'Lee', formatted: 'Ann Lee' },
  displayName: 'Ann Lee',
  title: 'Engineer',
  emails: [{ value: userName, type: 'work', primary: true }],
  phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
  active: true,
  password: PASSWORD,
  [ENTERPRISE_SCHEMA]: {
    employeeNumber: '42',
    department: 'R&D',
    ...(managerId ? { manager: { value: managerId } } : {}),
  },
});

describe('POST /Users (RFC 7644 §3.3)', () => {
  it('creates a user with the core schema and the enterprise extension, manager included', async () => {
    const boss = await createUser(acme, 'boss@acme.test');
    const res = await acme.post('/Users', fullUser('ann@acme.test', boss.id));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const user = res.body;
    // RFC 7644 §3.3: Location is the new resource's URI, equal to meta.location.
    expect(res.headers.location).toBe(`${acme.baseUrl}/Users/${user.id}`);
    expect(user.meta).toMatchObject({
      resourceType: 'User',
      location: `${acme.baseUrl}/Users/${user.id}`,
      created: expect.any(String),
      lastModified: expect.any(String),
    });
    expect(user.schemas).toEqual(expect.arrayContaining([USER_SCHEMA, ENTERPRISE_SCHEMA]));
    expect(user).toMatchObject({
      userName: 'ann@acme.test',
      externalId: 'ext-ann@acme.test',
      name: { givenName: 'Ann', familyName: 'Lee' },
      displayName: 'Ann Lee',
      title: 'Engineer',
      emails: [{ value: 'ann@acme.test', type: 'work', primary: true }],
      active: true,
    });
    expect(user[ENTERPRISE_SCHEMA]).toMatchObject({
      employeeNumber: '42',
      department: 'R&D',
      manager: { value: boss.id },
    });

    const read = await acme.get(`/Users/${user.id}`);
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(read.body).toEqual(user);
    const row = await harness.db
      .selectFrom('users')
      .select([
        'user_name',
        'external_id',
        'given_name',
        'family_name',
        'managed_by',
        'lifecycle_state',
      ])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      user_name: 'ann@acme.test',
      external_id: 'ext-ann@acme.test',
      given_name: 'Ann',
      family_name: 'Lee',
      managed_by: 'scim',
      lifecycle_state: 'active',
    });
  });

  it('accepts a body sent as application/json too (RFC 7644 §3.1)', async () => {
    const res = await acme
      .raw('post', '/Users')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ schemas: [USER_SCHEMA], userName: 'json@acme.test' }));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.userName).toBe('json@acme.test');
    const utf8 = await acme
      .raw('post', '/Users')
      .set('Content-Type', 'application/scim+json; charset=utf-8')
      .send(JSON.stringify({ schemas: [USER_SCHEMA], userName: 'utf8-é@acme.test' }));
    expect(utf8.status, JSON.stringify(utf8.body)).toBe(201);
    expect(utf8.body.userName).toBe('utf8-é@acme.test');
  });

  it('records each change in the audit trail with the token and the request id (rule 7)', async () => {
    const res = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'audited@acme.test',
    });
    expect(res.status).toBe(201);
    const events = await harness.db
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_id', 'request_id', 'action'])
      .where('target_id', '=', res.body.id)
      .execute();
    expect(events).toEqual([
      {
        actor_type: 'scim_token',
        actor_id: expect.any(String),
        request_id: res.headers['x-request-id'],
        action: expect.stringMatching(/^user\./),
      },
    ]);
  });

  it('accepts a password and discards it: in no answer, nowhere in the database', async () => {
    const res = await acme.post('/Users', fullUser('pw@acme.test'));
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('password');
    expect(res.text).not.toContain(PASSWORD);
    const read = await acme.get(`/Users/${res.body.id}`);
    expect(read.text).not.toContain(PASSWORD);
    const list = await acme.get('/Users?filter=userName eq "pw@acme.test"');
    expect(list.body.totalResults).toBe(1);
    expect(list.text).not.toContain(PASSWORD);
    const columns = await passwordColumns(res.body.id);
    expect(columns?.password_hash).toBeNull();
    expect(columns?.scim_resource).not.toContain(PASSWORD);
    expect(columns?.scim_resource).not.toContain('"password"');
    expect(await storedTextMentioning(PASSWORD)).toEqual([]);
  });

  it('ignores readOnly groups and meta and the id in a POST body (RFC 7643 §2.2)', async () => {
    const group = (
      await acme.post('/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'ro-group',
      })
    ).body;
    const res = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'readonly@acme.test',
      id: 'client-chosen-id',
      groups: [{ value: group.id, display: 'ro-group' }],
      meta: { created: '1999-01-01T00:00:00Z', version: 'W/"999"', resourceType: 'User' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.groups ?? []).toEqual([]);
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.body.meta.created).not.toBe('1999-01-01T00:00:00.000Z');
    expect(res.body.meta.created).not.toBe('1999-01-01T00:00:00Z');
    expect(res.body.meta.version).not.toBe('W/"999"');
    expect(
      await harness.db
        .selectFrom('group_members')
        .select('member_id')
        .where('group_id', '=', group.id)
        .execute(),
    ).toEqual([]);
  });
});

describe('parallel creates of one person (rule 8)', () => {
  it('leave exactly one user: one 201, the others 409 uniqueness', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        acme.post('/Users', {
          schemas: [USER_SCHEMA],
          userName: i % 2 === 0 ? 'racer@acme.test' : 'RACER@acme.test',
        }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const res of answers.filter((r) => r.status === 409))
      expectScimError(res, 409, 'uniqueness');
    const rows = await harness.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', acme.tenant.id)
      .where('user_name_key', '=', identityKey('racer@acme.test'))
      .execute();
    expect(rows).toHaveLength(1);
  });
});

describe('PUT /Users/:id (RFC 7644 §3.5.1)', () => {
  it('replaces the attributes, keeps the id, bumps the version', async () => {
    const user = await createUser(acme, 'put@acme.test', {
      displayName: 'Before',
      title: 'Intern',
      name: { givenName: 'Put', familyName: 'Before' },
    });
    const res = await acme.put(`/Users/${user.id}`, {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      id: user.id,
      userName: 'put@acme.test',
      displayName: 'After',
      name: { givenName: 'Put', familyName: 'After' },
      password: PASSWORD,
      [ENTERPRISE_SCHEMA]: { costCenter: 'CC-7' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      id: user.id,
      displayName: 'After',
      name: { givenName: 'Put', familyName: 'After' },
    });
    // A replace: an attribute the PUT leaves out is gone.
    expect(res.body.title).toBeUndefined();
    expect(res.body[ENTERPRISE_SCHEMA]).toMatchObject({ costCenter: 'CC-7' });
    expect(res.body.meta.version).not.toBe(user.meta.version);
    expect(res.text).not.toContain(PASSWORD);
    expect(await storedTextMentioning(PASSWORD)).toEqual([]);
    const read = await acme.get(`/Users/${user.id}`);
    expect(read.body.displayName).toBe('After');
  });

  it('PUT without the extension or emails removes them, stored rows included', async () => {
    const user = await createUser(acme, 'put-removes@acme.test', {
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      emails: [{ value: 'put-removes@acme.test', type: 'work' }],
      [ENTERPRISE_SCHEMA]: { department: 'Gone soon' },
    });
    const res = await acme.put(`/Users/${user.id}`, {
      schemas: [USER_SCHEMA],
      userName: 'put-removes@acme.test',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.schemas).toEqual([USER_SCHEMA]);
    expect(res.body).not.toHaveProperty(ENTERPRISE_SCHEMA);
    expect(res.body).not.toHaveProperty('emails');
    const emails = await harness.db
      .selectFrom('user_emails')
      .select('value')
      .where('user_id', '=', user.id)
      .execute();
    expect(emails).toEqual([]);
    const byOldEmail = await acme.get(
      `/Users?filter=${encodeURIComponent('emails.value eq "put-removes@acme.test"')}`,
    );
    expect(byOldEmail.body.totalResults).toBe(0);
  });

  it('refuses a PUT whose body names another id: 400 mutability, nothing written', async () => {
    const user = await createUser(acme, 'immutable@acme.test', { displayName: 'Same' });
    const before = await storedVersion(harness.db, 'users', user.id);
    const res = await acme.put(`/Users/${user.id}`, {
      schemas: [USER_SCHEMA],
      id: '11111111-1111-4111-8111-111111111111',
      userName: 'immutable@acme.test',
      displayName: 'Changed',
    });
    expectScimError(res, 400, 'mutability');
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(before);
    expect((await acme.get(`/Users/${user.id}`)).body.displayName).toBe('Same');
  });

  it('answers a PUT of an unknown user with 404', async () => {
    expectScimError(
      await acme.put('/Users/00000000-0000-4000-8000-000000000000', {
        schemas: [USER_SCHEMA],
        userName: 'ghost@acme.test',
      }),
      404,
    );
  });
});

describe('PATCH /Users/:id (RFC 7644 §3.5.2)', () => {
  it('replaces, adds and removes attributes, the extension included', async () => {
    const manager = await createUser(acme, 'manager@acme.test');
    const user = await createUser(acme, 'patch@acme.test', { displayName: 'P', title: 'T' });
    const res = await acme.patch(
      `/Users/${user.id}`,
      patchOp(
        { op: 'replace', path: 'displayName', value: 'Patched' },
        { op: 'add', path: 'name.givenName', value: 'Pat' },
        { op: 'remove', path: 'title' },
        { op: 'add', path: `${ENTERPRISE_SCHEMA}:manager`, value: { value: manager.id } },
        { op: 'replace', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Ops' },
      ),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    const read = await acme.get(`/Users/${user.id}`);
    for (const body of [res.body, read.body]) {
      expect(body).toMatchObject({
        id: user.id,
        displayName: 'Patched',
        name: { givenName: 'Pat' },
      });
      expect(body.title).toBeUndefined();
      expect(body[ENTERPRISE_SCHEMA]).toMatchObject({
        department: 'Ops',
        manager: { value: manager.id },
      });
    }
    const row = await harness.db
      .selectFrom('users')
      .select(['display_name', 'given_name'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ display_name: 'Patched', given_name: 'Pat' });
  });

  it("keeps and shows the user's groups across a PATCH (groups are readOnly, never patched away)", async () => {
    const user = await createUser(acme, 'member-patch@acme.test');
    const group = (
      await acme.post('/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Patch keeps me',
        members: [{ value: user.id }],
      })
    ).body;
    const res = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Still a member' }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.groups).toEqual([expect.objectContaining({ value: group.id })]);
    const rows = await harness.db
      .selectFrom('group_members')
      .select('member_user_id')
      .where('group_id', '=', group.id)
      .execute();
    expect(rows).toEqual([{ member_user_id: user.id }]);
  });

  it('accepts a password in a PATCH and stores nothing of it', async () => {
    const user = await createUser(acme, 'patch-pw@acme.test');
    const res = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'password', value: PASSWORD }),
    );
    expect([200, 204]).toContain(res.status);
    expect(res.text).not.toContain(PASSWORD);
    const columns = await passwordColumns(user.id);
    expect(columns?.password_hash).toBeNull();
    expect(columns?.scim_resource).not.toContain(PASSWORD);
    expect(await storedTextMentioning(PASSWORD)).toEqual([]);
  });

  it("deactivates with active false, ending the person's sessions at once (rules 3, 4)", async () => {
    const user = await createUser(acme, 'sessions@acme.test');
    const signIn = await signInWithSaml(
      harness.db,
      acme.tenant.id,
      idpId,
      { nameId: 'sessions@acme.test' },
      idp,
      harness.clock,
    );
    expect(signIn.outcome).toBe('signed_in');
    const sessions = () =>
      harness.db.selectFrom('sessions').select('user_id').where('user_id', '=', user.id).execute();
    expect(await sessions()).toHaveLength(1);

    const res = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'active', value: false }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.active).toBe(false);
    expect(await sessions()).toEqual([]);
    const row = await harness.db
      .selectFrom('users')
      .select(['active', 'lifecycle_state'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ active: false, lifecycle_state: 'inactive' });
    expect((await acme.get(`/Users/${user.id}`)).body.active).toBe(false);
    // Inactive means out (rule 3).
    const again = await signInWithSaml(
      harness.db,
      acme.tenant.id,
      idpId,
      { nameId: 'sessions@acme.test' },
      idp,
      harness.clock,
    );
    expect(again.outcome).toBe('refused');
    // Entra's form: no path, a value object with a string boolean (test/interop/fixtures/entra.ts).
    const reactivated = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'Replace', value: { active: true } }),
    );
    expect(reactivated.status, JSON.stringify(reactivated.body)).toBe(200);
    expect(reactivated.body.active).toBe(true);
  });

  it('patches a value path and appends to a multi-valued attribute', async () => {
    const user = await createUser(acme, 'emails@acme.test', {
      emails: [
        { value: 'emails@acme.test', type: 'work', primary: true },
        { value: 'emails@home.test', type: 'home' },
      ],
    });
    const replaced = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'replace', path: 'emails[type eq "work"].value', value: 'new@acme.test' }),
    );
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect(replaced.body.emails).toEqual([
      { value: 'new@acme.test', type: 'work', primary: true },
      { value: 'emails@home.test', type: 'home' },
    ]);
    const added = await acme.patch(
      `/Users/${user.id}`,
      patchOp({ op: 'add', path: 'emails', value: [{ value: 'third@acme.test', type: 'other' }] }),
    );
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.emails).toHaveLength(3);
    const stored = await harness.db
      .selectFrom('user_emails')
      .select('value')
      .where('user_id', '=', user.id)
      .orderBy('position')
      .execute();
    expect(stored.map((e) => e.value)).toEqual([
      'new@acme.test',
      'emails@home.test',
      'third@acme.test',
    ]);
    // The lookup by the new address finds the user.
    const found = await acme.get(
      `/Users?filter=${encodeURIComponent('emails.value eq "new@acme.test"')}`,
    );
    expect(found.body.totalResults).toBe(1);
  });

  it('refuses a PATCH of readOnly id, meta or groups with 400 mutability, and removing userName with 400', async () => {
    const user = await createUser(acme, 'patch-ro@acme.test');
    const version = await storedVersion(harness.db, 'users', user.id);
    for (const path of ['id', 'meta.created', 'groups']) {
      expectScimError(
        await acme.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path, value: 'x' })),
        400,
        'mutability',
      );
    }
    expectScimError(
      await acme.patch(`/Users/${user.id}`, patchOp({ op: 'remove', path: 'userName' })),
      400,
    );
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(version);
  });

  it('answers a PATCH of an unknown user with 404', async () => {
    expectScimError(
      await acme.patch(
        '/Users/00000000-0000-4000-8000-000000000000',
        patchOp({ op: 'replace', path: 'displayName', value: 'x' }),
      ),
      404,
    );
  });
});

describe('DELETE /Users/:id (rule 5)', () => {
  it('deprovisions: 204, then 404, then a POST within the grace period restores the same id', async () => {
    const user = await createUser(acme, 'leaver@acme.test', { externalId: 'ext-leaver' });
    const signIn = await signInWithSaml(
      harness.db,
      acme.tenant.id,
      idpId,
      { nameId: 'leaver@acme.test' },
      idp,
      harness.clock,
    );
    expect(signIn.outcome).toBe('signed_in');
    const sessions = () =>
      harness.db.selectFrom('sessions').select('user_id').where('user_id', '=', user.id).execute();
    expect(await sessions()).toHaveLength(1);
    const res = await acme.delete(`/Users/${user.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    // Rule 4: deletion ends the person's sessions at once.
    expect(await sessions()).toEqual([]);
    expectScimError(await acme.get(`/Users/${user.id}`), 404);
    expectScimError(await acme.delete(`/Users/${user.id}`), 404);
    expectScimError(
      await acme.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: 'leaver@acme.test' }),
      404,
    );
    expectScimError(
      await acme.patch(
        `/Users/${user.id}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'ghost' }),
      ),
      404,
    );
    const list = await acme.get('/Users?filter=userName eq "leaver@acme.test"');
    expect(list.body.totalResults).toBe(0);
    const row = await harness.db
      .selectFrom('users')
      .select(['lifecycle_state', 'purge_after'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.lifecycle_state).toBe('deprovisioned');
    expect(row.purge_after).not.toBeNull();

    harness.clock.advance(10 * 86_400_000);
    const back = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'Leaver@acme.test',
      externalId: 'ext-leaver',
    });
    expect(back.status, JSON.stringify(back.body)).toBe(201);
    expect(back.body.id).toBe(user.id);
    expect(back.headers.location).toBe(`${acme.baseUrl}/Users/${user.id}`);
    expect(back.body.active).toBe(true);
    // Restored with its SAML link kept (rule 5).
    const links = await harness.db
      .selectFrom('saml_links')
      .select('user_id')
      .where('idp_id', '=', idpId)
      .where('name_id', '=', 'leaver@acme.test')
      .execute();
    expect(links).toEqual([{ user_id: user.id }]);
    expect((await acme.get(`/Users/${user.id}`)).status).toBe(200);
  });
});

describe('JIT users through SCIM (rule 1)', () => {
  it('adopts a JIT user whose userName matches (any case): same id, 201, SCIM-managed', async () => {
    const jit = await signInWithSaml(
      harness.db,
      acme.tenant.id,
      idpId,
      { nameId: 'jit.person@acme.test', attributes: { displayName: 'From SAML' } },
      idp,
      harness.clock,
    );
    if (jit.outcome !== 'signed_in') throw new Error(`expected a sign-in, got ${jit.outcome}`);
    const usersBefore = await countRows(harness.db, 'users', acme.tenant.id);

    // IdPs look a person up first: JIT users are in the directory.
    const lookup = await acme.get('/Users?filter=userName eq "JIT.Person@acme.test"');
    expect(lookup.body.totalResults).toBe(1);
    expect(lookup.body.Resources[0].id).toBe(jit.user.id);

    const res = await acme.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: 'JIT.Person@acme.test',
      displayName: 'From SCIM',
      externalId: 'ext-jit',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.id).toBe(jit.user.id);
    expect(res.headers.location).toBe(`${acme.baseUrl}/Users/${jit.user.id}`);
    expect(res.body.displayName).toBe('From SCIM');
    expect(await countRows(harness.db, 'users', acme.tenant.id)).toBe(usersBefore);
    const row = await harness.db
      .selectFrom('users')
      .select(['managed_by', 'source', 'adopted_at'])
      .where('id', '=', jit.user.id)
      .executeTakeFirstOrThrow();
    expect(row.managed_by).toBe('scim');
    expect(row.source).toBe('jit');
    expect(row.adopted_at).not.toBeNull();
    // Adopted once: a second create is a duplicate now.
    expectScimError(
      await acme.post('/Users', { schemas: [USER_SCHEMA], userName: 'jit.person@acme.test' }),
      409,
      'uniqueness',
    );
  });

  it('adopts a JIT user at the first SCIM PUT (rule 1)', async () => {
    const jit = await signInWithSaml(
      harness.db,
      acme.tenant.id,
      idpId,
      { nameId: 'jit.put@acme.test' },
      idp,
      harness.clock,
    );
    if (jit.outcome !== 'signed_in') throw new Error(`expected a sign-in, got ${jit.outcome}`);
    const res = await acme.put(`/Users/${jit.user.id}`, {
      schemas: [USER_SCHEMA],
      userName: 'jit.put@acme.test',
      displayName: 'Put by SCIM',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: jit.user.id, displayName: 'Put by SCIM' });
    const row = await harness.db
      .selectFrom('users')
      .select(['managed_by', 'adopted_at'])
      .where('id', '=', jit.user.id)
      .executeTakeFirstOrThrow();
    expect(row.managed_by).toBe('scim');
    expect(row.adopted_at).not.toBeNull();
  });
});
