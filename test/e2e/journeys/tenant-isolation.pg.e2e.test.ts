// Journey 6: tenant isolation. Tokens, sessions, IdPs and users of tenant A reach
// nothing of tenant B, across every endpoint: SCIM (by id, list, filter, search, bulk, group
// members), SSO (login, ACS, metadata, SLO, whoami, logout) and the admin API (a tenant A route
// never shows or changes B's things). Every refusal is a 404 or 401, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BULK_REQUEST_SCHEMA,
  GROUP_SCHEMA,
  PATCH_SCHEMA,
  SEARCH_SCHEMA,
  scimUser,
  startJourneyStack,
  type Browser,
  type HttpAnswer,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

let stack: JourneyStack;
let a: JourneyTenant;
let b: JourneyTenant;
/** B's things, made through B's own doors. */
let bUser: { id: string; userName: string };
let bJitUser: { id: string; userName: string };
let bGroupId: string;
let bBrowser: Browser;
let aUserId: string;
let aGroupId: string;

beforeAll(async () => {
  stack = await startJourneyStack();
  a = await stack.tenant('tenant-a');
  b = await stack.tenant('tenant-b');

  const created = await b.scim.post('/Users', scimUser('bea@b.example'));
  expect(created.status).toBe(201);
  bUser = { id: String(created.body.id), userName: 'bea@b.example' };
  bBrowser = stack.browser();
  expect((await bBrowser.signIn(b.idp, b.sp, 'jit@b.example')).status).toBe(303);
  const me = await bBrowser.whoami(b.slug);
  expect(me.status).toBe(200);
  bJitUser = { id: String(me.body.user.id), userName: 'jit@b.example' };
  const group = await b.scim.post('/Groups', {
    schemas: [GROUP_SCHEMA],
    displayName: 'b-team',
    members: [{ value: bUser.id }, { value: bJitUser.id }],
  });
  expect(group.status).toBe(201);
  bGroupId = String(group.body.id);

  const aCreated = await a.scim.post('/Users', scimUser('amy@a.example'));
  expect(aCreated.status).toBe(201);
  aUserId = String(aCreated.body.id);
  const aGroup = await a.scim.post('/Groups', {
    schemas: [GROUP_SCHEMA],
    displayName: 'a-team',
    members: [{ value: aUserId }],
  });
  expect(aGroup.status).toBe(201);
  aGroupId = String(aGroup.body.id);
});
afterAll(() => stack.close());

/**
 * Every row of the directory, both tenants (what a request may change). Audit events, replay
 * caches and the SCIM tokens' last use are left out: a refused request may record those.
 */
async function directorySnapshot() {
  const db = stack.database.db;
  return {
    tenants: await db.selectFrom('tenants').selectAll().orderBy('id').execute(),
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    emails: await db
      .selectFrom('user_emails')
      .selectAll()
      .orderBy('user_id')
      .orderBy('position')
      .execute(),
    groups: await db.selectFrom('groups').selectAll().orderBy('id').execute(),
    members: await db
      .selectFrom('group_members')
      .selectAll()
      .orderBy('group_id')
      .orderBy('member_id')
      .execute(),
    links: await db.selectFrom('saml_links').selectAll().orderBy('name_id').execute(),
    sessions: await db.selectFrom('sessions').selectAll().orderBy('id_hash').execute(),
    idps: await db.selectFrom('saml_idps').selectAll().orderBy('id').execute(),
    tokens: await db
      .selectFrom('scim_tokens')
      .select(['id', 'tenant_id', 'revoked_at', 'expires_at'])
      .orderBy('id')
      .execute(),
  };
}

/** Runs the attempts and checks each one's status, then that the directory did not change. */
async function expectNothingWritten(
  attempts: readonly (readonly [string, () => Promise<HttpAnswer>, readonly number[]])[],
) {
  const before = await directorySnapshot();
  const wrong: string[] = [];
  for (const [name, attempt, allowed] of attempts) {
    const answer = await attempt();
    if (!allowed.includes(answer.status))
      wrong.push(`${name}: ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  expect(wrong).toEqual([]);
  expect(await directorySnapshot()).toEqual(before);
}

const idsIn = (answer: HttpAnswer): string[] =>
  ((answer.body?.Resources ?? []) as { id: string }[]).map((r) => r.id);

describe('journey 6: tenant A reaches nothing of tenant B', () => {
  it('SCIM: A’s token on A’s endpoint never finds, changes or deletes B’s users and groups', async () => {
    const userPatch = {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    };
    const groupPatch = {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'displayName', value: 'taken' }],
    };
    await expectNothingWritten([
      ['GET user', () => a.scim.get(`/Users/${bUser.id}`), [404]],
      ['GET JIT user', () => a.scim.get(`/Users/${bJitUser.id}`), [404]],
      ['PUT user', () => a.scim.put(`/Users/${bUser.id}`, scimUser(bUser.userName)), [404]],
      ['PATCH user', () => a.scim.patch(`/Users/${bUser.id}`, userPatch), [404]],
      ['PATCH JIT user', () => a.scim.patch(`/Users/${bJitUser.id}`, userPatch), [404]],
      ['DELETE user', () => a.scim.delete(`/Users/${bUser.id}`), [404]],
      ['GET group', () => a.scim.get(`/Groups/${bGroupId}`), [404]],
      [
        'PUT group',
        () => a.scim.put(`/Groups/${bGroupId}`, { schemas: [GROUP_SCHEMA], displayName: 'x' }),
        [404],
      ],
      ['PATCH group', () => a.scim.patch(`/Groups/${bGroupId}`, groupPatch), [404]],
      ['DELETE group', () => a.scim.delete(`/Groups/${bGroupId}`), [404]],
      // A's own group cannot take B's user as a member (the member does not exist in A).
      [
        'PATCH A group add B user',
        () =>
          a.scim.patch(`/Groups/${aGroupId}`, {
            schemas: [PATCH_SCHEMA],
            Operations: [{ op: 'add', path: 'members', value: [{ value: bUser.id }] }],
          }),
        [400, 404],
      ],
      [
        'POST group with B user',
        () =>
          a.scim.post('/Groups', {
            schemas: [GROUP_SCHEMA],
            displayName: 'a-with-b',
            members: [{ value: bUser.id }],
          }),
        [400, 404],
      ],
      [
        'Bulk on B ids',
        async () => {
          const bulk = await a.scim.post('/Bulk', {
            schemas: [BULK_REQUEST_SCHEMA],
            Operations: [
              { method: 'PATCH', path: `/Users/${bUser.id}`, data: userPatch },
              { method: 'PUT', path: `/Users/${bJitUser.id}`, data: scimUser(bJitUser.userName) },
              { method: 'DELETE', path: `/Users/${bUser.id}` },
              { method: 'PATCH', path: `/Groups/${bGroupId}`, data: groupPatch },
              { method: 'DELETE', path: `/Groups/${bGroupId}` },
            ],
          });
          // The bulk itself is accepted; every one of its operations must be a 404.
          const statuses = ((bulk.body?.Operations ?? []) as { status: unknown }[]).map((op) =>
            String(op.status),
          );
          const allNotFound = statuses.length === 5 && statuses.every((s) => s === '404');
          return { ...bulk, status: bulk.status === 200 && allNotFound ? 404 : bulk.status };
        },
        [404],
      ],
    ]);
    // Groups of A: still only A's own, with only A's member.
    const aTeam = await a.scim.get(`/Groups/${aGroupId}`);
    expect((aTeam.body.members as { value: string }[]).map((m) => m.value)).toEqual([aUserId]);
  });

  it('SCIM: lists, filters and searches of A never show B’s users or groups', async () => {
    const bIds = [bUser.id, bJitUser.id, bGroupId];
    const queries = [
      await a.scim.get('/Users?count=200'),
      await a.scim.get('/Groups?count=200'),
      await a.scim.findByUserName(bUser.userName),
      await a.scim.findByUserName(bJitUser.userName),
      await a.scim.get(`/Users?filter=${encodeURIComponent(`id eq "${bUser.id}"`)}`),
      await a.scim.get(`/Users?filter=${encodeURIComponent('userName co "b.example"')}`),
      await a.scim.get(`/Groups?filter=${encodeURIComponent('displayName eq "b-team"')}`),
      await a.scim.get(`/Groups?filter=${encodeURIComponent(`members.value eq "${bUser.id}"`)}`),
      await a.scim.post('/.search', {
        schemas: [SEARCH_SCHEMA],
        filter: `userName sw "bea" or userName sw "jit"`,
      }),
      await a.scim.post('/Users/.search', { schemas: [SEARCH_SCHEMA], filter: 'active pr' }),
    ];
    for (const answer of queries) {
      expect(answer.status).toBe(200);
      expect(idsIn(answer).filter((id) => bIds.includes(id))).toEqual([]);
    }
    expect(queries[0]?.body.totalResults).toBe(1);
    expect(idsIn(queries[0] as HttpAnswer)).toEqual([aUserId]);
    expect(queries[2]?.body.totalResults).toBe(0);
  });

  it('SCIM: a tenant’s token does not open another tenant’s endpoint', async () => {
    const aTokenOnB = stack.scimAs(b.slug, a.scimToken);
    await expectNothingWritten([
      ['list', () => aTokenOnB.get('/Users'), [401]],
      ['GET by id', () => aTokenOnB.get(`/Users/${bUser.id}`), [401]],
      ['filter', () => aTokenOnB.findByUserName(bUser.userName), [401]],
      ['POST', () => aTokenOnB.post('/Users', scimUser('intruder@b.example')), [401]],
      ['DELETE', () => aTokenOnB.delete(`/Users/${bUser.id}`), [401]],
      ['groups', () => aTokenOnB.get(`/Groups/${bGroupId}`), [401]],
      [
        'bulk',
        () =>
          aTokenOnB.post('/Bulk', {
            schemas: [BULK_REQUEST_SCHEMA],
            Operations: [{ method: 'DELETE', path: `/Users/${bUser.id}` }],
          }),
        [401],
      ],
      ['B token on A', () => stack.scimAs(a.slug, b.scimToken).get('/Users'), [401]],
    ]);
  });

  it('SSO: B’s IdP, responses and sessions are worth nothing under A', async () => {
    const aLogin = stack.browser();
    await expectNothingWritten([
      ['login with B idp', () => aLogin.get(`/saml/${a.slug}/${b.idpConfig.id}/login`), [404]],
      ['metadata of B idp', () => aLogin.get(`/saml/${a.slug}/${b.idpConfig.id}/metadata`), [404]],
      [
        'ACS of B idp under A',
        () => aLogin.post(`/saml/${a.slug}/${b.idpConfig.id}/acs`, { SAMLResponse: 'eA==' }),
        [404],
      ],
      ['SLO of B idp under A', () => aLogin.get(`/saml/${a.slug}/${b.idpConfig.id}/slo`), [404]],
      // B's session cookie on A's path.
      ['whoami with B cookie', () => bBrowser.whoami(a.slug), [401]],
      [
        'B response at A ACS',
        async () => {
          // A sign-in started at A, answered by B's IdP exactly as it answers B.
          const { request } = await aLogin.startLogin(a.idp, a.sp);
          const { xml } = await b.idp.response({
            acsUrl: b.sp.acsUrl,
            audience: b.sp.entityId,
            inResponseTo: request.id,
            nameId: bUser.userName,
            sign: 'assertion',
          });
          return aLogin.post(a.sp.acsUrl, { SAMLResponse: Buffer.from(xml).toString('base64') });
        },
        [401],
      ],
      [
        'B IdP addressing A',
        async () => {
          // B's IdP (its own key and issuer) forging a response aimed at A's SP.
          const { request } = await aLogin.startLogin(a.idp, a.sp);
          return aLogin.postResponse(b.idp, a.sp, request.id, bUser.userName);
        },
        [401],
      ],
    ]);
    expect(aLogin.cookies.has('roster_session')).toBe(false);
    // Logging out at A with B's cookie does not end B's session. The answer clears the cookie
    // at A's path only (Path=/saml/tenant-a); a browser keeps B's, so the jar puts it back.
    const bCookie = String(bBrowser.cookies.get('roster_session'));
    const out = await bBrowser.post(`/saml/${a.slug}/logout`, {}, 'application/json');
    expect(out.status).toBeLessThan(500);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/Path=\/saml\/tenant-a/);
    bBrowser.cookies.set('roster_session', bCookie);
    const bSessions = await stack.database.db
      .selectFrom('sessions')
      .select('user_id')
      .where('tenant_id', '=', b.tenant.id)
      .execute();
    expect(bSessions).toEqual([{ user_id: bJitUser.id }]);
    expect((await bBrowser.whoami(b.slug)).status).toBe(200);
  });

  it('SSO and SCIM: the same person in both tenants is two users, never each other', async () => {
    // A's IdP signs in a NameID that is B's user: a new user of A (JIT), not B's.
    const browser = stack.browser();
    expect((await browser.signIn(a.idp, a.sp, bUser.userName)).status).toBe(303);
    const me = await browser.whoami(a.slug);
    expect(me.body.user.id).not.toBe(bUser.id);
    expect((await browser.whoami(b.slug)).status).toBe(401);
    // A's SCIM creates B's JIT person: a user of A, B's JIT user is not adopted.
    const created = await a.scim.post('/Users', scimUser(bJitUser.userName));
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(bJitUser.id);
    const bJit = await stack.database.db
      .selectFrom('users')
      .select(['tenant_id', 'managed_by'])
      .where('id', '=', bJitUser.id)
      .executeTakeFirstOrThrow();
    expect(bJit).toEqual({ tenant_id: b.tenant.id, managed_by: 'jit' });
  });

  it('admin API: a tenant A route never shows or changes B’s users, IdPs or tokens', async () => {
    const base = `/v1/tenants/${a.slug}`;
    await expectNothingWritten([
      ['GET B idp', () => stack.admin('get', `${base}/idps/${b.idpConfig.id}`), [404]],
      [
        'PATCH B idp',
        () => stack.admin('patch', `${base}/idps/${b.idpConfig.id}`, { jitPolicy: 'deny' }),
        [404],
      ],
      ['DELETE B idp', () => stack.admin('delete', `${base}/idps/${b.idpConfig.id}`), [404]],
      [
        'revoke B token',
        () => stack.admin('delete', `${base}/scim-tokens/${b.scimTokenId}`),
        [404],
      ],
      [
        'explain with B idp',
        () =>
          stack.admin('post', `${base}/explain`, {
            idp: b.idpConfig.id,
            nameId: bUser.userName,
          }),
        [404],
      ],
    ]);
    const idps = await stack.admin('get', `${base}/idps`);
    expect(idps.status).toBe(200);
    expect((idps.body.idps as { id: string }[]).map((i) => i.id)).toEqual([a.idpConfig.id]);
    const tokens = await stack.admin('get', `${base}/scim-tokens`);
    expect((tokens.body.tokens as { id: string }[]).map((t) => t.id)).toEqual([a.scimTokenId]);
    const users = await stack.admin('get', `${base}/users?limit=200`);
    const userIds = (users.body.users as { id: string }[]).map((u) => u.id);
    expect(userIds).toContain(aUserId);
    expect(userIds).not.toContain(bUser.id);
    expect(userIds).not.toContain(bJitUser.id);
    const audit = await stack.admin('get', `${base}/audit?user=${bUser.id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.events).toEqual([]);
    const aAudit = await stack.admin('get', `${base}/audit?limit=10000`);
    const targets = (aAudit.body.events as { target?: { id?: string } }[]).map((e) => e.target?.id);
    expect(targets).not.toContain(bUser.id);
    expect(targets).not.toContain(bGroupId);
    // B's token and B's IdP still work after all of that.
    expect((await b.scim.get(`/Users/${bUser.id}`)).status).toBe(200);
    expect((await stack.browser().signIn(b.idp, b.sp, bUser.userName)).status).toBe(303);
  });
});
