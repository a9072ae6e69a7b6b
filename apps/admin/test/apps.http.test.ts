import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, getTenantBySlug, systemClock, verifyOidcAppSecret } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const ADMIN_TOKEN = 'roster_admin_test-token-for-the-app-routes';
const SSO = 'https://sso.roster.test';
const ISSUER = `${SSO}/oidc/acme`;
const CLIENT_SECRET_FORMAT = /^roster_cs_[A-Za-z0-9_-]{43}$/;
const wiki = { name: 'Wiki', redirectUris: ['https://wiki.example.com/callback'] };
let database: TestDatabase;
let app: Express;
let acmeId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: 'https://scim.roster.test',
    ssoBaseUrl: SSO,
  });
  await call('post', '/v1/tenants', { slug: 'acme' });
  await call('post', '/v1/tenants', { slug: 'globex' });
  acmeId = (await getTenantBySlug(database.db, 'acme')).id;
});
afterAll(async () => {
  await database.close();
});

function call(method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) {
  const test = request(app)[method](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  return body === undefined ? test : test.send(body);
}

/** Rows in oidc_apps and audit events: what "nothing written" is checked against. */
async function written(): Promise<[number, number]> {
  const count = async (table: 'oidc_apps' | 'audit_events') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return [await count('oidc_apps'), await count('audit_events')];
}

describe('/v1/tenants/:slug/apps', () => {
  it('adds a confidential app and shows its secret once, with the issuer and discovery URL', async () => {
    const res = await call('post', '/v1/tenants/acme/apps', {
      ...wiki,
      postLogoutRedirectUris: ['https://wiki.example.com/'],
      backchannelLogoutUri: 'https://wiki.example.com/backchannel',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'app',
      name: 'Wiki',
      redirectUris: wiki.redirectUris,
      postLogoutRedirectUris: ['https://wiki.example.com/'],
      backchannelLogoutUri: 'https://wiki.example.com/backchannel',
      isPublic: false,
      issuer: ISSUER,
      discoveryUrl: `${ISSUER}/.well-known/openid-configuration`,
      warnings: [],
    });
    expect(res.body.clientSecret).toMatch(CLIENT_SECRET_FORMAT);
    const clientId = res.body.clientId as string;
    expect(res.headers.location).toBe(`/v1/tenants/acme/apps/${clientId}`);
    expect(await verifyOidcAppSecret(database.db, acmeId, clientId, res.body.clientSecret)).toBe(
      true,
    );

    const shown = await call('get', `/v1/tenants/acme/apps/${clientId}`);
    expect(shown.status).toBe(200);
    expect(shown.body.clientId).toBe(clientId);
    expect(shown.body).not.toHaveProperty('clientSecret');
    const listed = await call('get', '/v1/tenants/acme/apps');
    const apps = listed.body.apps as { clientId: string }[];
    expect(apps.map((a) => a.clientId)).toContain(clientId);
    expect(JSON.stringify(listed.body)).not.toContain('roster_cs_');
  });

  it('adds a public app with no secret, and warns about http off the local machine', async () => {
    const res = await call('post', '/v1/tenants/acme/apps', {
      name: 'SPA',
      redirectUris: ['http://app.example.test:3000/cb', 'http://localhost:3000/cb'],
      isPublic: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.clientSecret).toBeNull();
    expect(res.body.warnings).toHaveLength(1);
    expect(res.body.warnings[0]).toContain('http://app.example.test:3000/cb');
    const rotate = await call('post', `/v1/tenants/acme/apps/${res.body.clientId}/rotate-secret`);
    expect(rotate.status).toBe(400);
    expect(rotate.body.error.message).toContain('public');
  });

  it('updates, rotates the secret and removes an app', async () => {
    const added = await call('post', '/v1/tenants/acme/apps', wiki);
    const clientId = added.body.clientId as string;
    const updated = await call('patch', `/v1/tenants/acme/apps/${clientId}`, {
      name: 'Wiki 2',
      redirectUris: ['https://wiki2.example.com/cb'],
      backchannelLogoutUri: null,
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      clientId,
      name: 'Wiki 2',
      redirectUris: ['https://wiki2.example.com/cb'],
    });

    const rotated = await call('post', `/v1/tenants/acme/apps/${clientId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ clientId, issuer: ISSUER });
    expect(rotated.body.clientSecret).toMatch(CLIENT_SECRET_FORMAT);
    expect(rotated.body.clientSecret).not.toBe(added.body.clientSecret);
    expect(await verifyOidcAppSecret(database.db, acmeId, clientId, added.body.clientSecret)).toBe(
      false,
    );

    const removed = await call('delete', `/v1/tenants/acme/apps/${clientId}`);
    expect(removed.status).toBe(200);
    expect(removed.body.removed.clientId).toBe(clientId);
    expect((await call('get', `/v1/tenants/acme/apps/${clientId}`)).status).toBe(404);
    const audit = await call('get', '/v1/tenants/acme/audit');
    const actions = (audit.body.events as { action: string; target: { id: string } }[])
      .filter((event) => event.action.startsWith('oidc_app.'))
      .map((event) => event.action);
    expect(actions).toEqual(
      expect.arrayContaining(['oidc_app.secret_rotated', 'oidc_app.removed']),
    );
    expect(JSON.stringify(audit.body)).not.toContain('roster_cs_');
  });

  it("does not show, change or remove another tenant's app", async () => {
    const added = await call('post', '/v1/tenants/acme/apps', wiki);
    const path = `/v1/tenants/globex/apps/${added.body.clientId}`;
    expect((await call('get', path)).status).toBe(404);
    expect((await call('patch', path, { name: 'mine' })).status).toBe(404);
    expect((await call('delete', path)).status).toBe(404);
    expect((await call('post', `${path}/rotate-secret`)).status).toBe(404);
    expect((await call('get', `/v1/tenants/acme/apps/${added.body.clientId}`)).body.name).toBe(
      'Wiki',
    );
  });
});

describe('bad input: a 4xx naming the problem, never a 5xx, nothing written', () => {
  it.each<
    [string, 'post' | 'patch' | 'get' | 'delete', string, object | undefined, number, string]
  >([
    ['no name', 'post', '/v1/tenants/acme/apps', { redirectUris: wiki.redirectUris }, 400, 'name'],
    [
      'no redirect URI',
      'post',
      '/v1/tenants/acme/apps',
      { name: 'x', redirectUris: [] },
      400,
      'redirectUris',
    ],
    [
      'a relative redirect URI',
      'post',
      '/v1/tenants/acme/apps',
      { name: 'x', redirectUris: ['/cb'] },
      400,
      'redirectUris[0]',
    ],
    [
      'a fragment',
      'post',
      '/v1/tenants/acme/apps',
      { name: 'x', redirectUris: ['https://a.example/#x'] },
      400,
      'fragment',
    ],
    [
      'a long name',
      'post',
      '/v1/tenants/acme/apps',
      { ...wiki, name: 'n'.repeat(201) },
      400,
      'name',
    ],
    [
      'too many redirect URIs',
      'post',
      '/v1/tenants/acme/apps',
      { name: 'x', redirectUris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) },
      400,
      'redirectUris',
    ],
    [
      'a huge list',
      'post',
      '/v1/tenants/acme/apps',
      { name: 'x', redirectUris: Array.from({ length: 5000 }, () => 'https://a.example/') },
      400,
      'redirectUris',
    ],
    [
      'an unknown field',
      'post',
      '/v1/tenants/acme/apps',
      { ...wiki, clientSecret: 'mine' },
      400,
      'clientSecret',
    ],
    [
      'isPublic as a string',
      'post',
      '/v1/tenants/acme/apps',
      { ...wiki, isPublic: 'true' },
      400,
      'isPublic',
    ],
    [
      'a bad back-channel URI',
      'post',
      '/v1/tenants/acme/apps',
      { ...wiki, backchannelLogoutUri: 'ftp://x/' },
      400,
      'backchannelLogoutUri',
    ],
    ['an unknown tenant', 'post', '/v1/tenants/nope/apps', wiki, 404, 'nope'],
    ['an unknown app', 'get', '/v1/tenants/acme/apps/app_nope', undefined, 404, 'app_nope'],
    [
      'an unknown app to change',
      'patch',
      '/v1/tenants/acme/apps/app_nope',
      { name: 'x' },
      404,
      'app_nope',
    ],
    ['an empty change', 'patch', '/v1/tenants/acme/apps/app_nope', {}, 400, 'nothing to change'],
    [
      'isPublic in a change',
      'patch',
      '/v1/tenants/acme/apps/app_nope',
      { isPublic: true },
      400,
      'isPublic',
    ],
    [
      'a NUL in a client id',
      'get',
      '/v1/tenants/acme/apps/a%00b',
      undefined,
      404,
      'does not exist',
    ],
    [
      'a very long client id',
      'delete',
      `/v1/tenants/acme/apps/${'x'.repeat(3000)}`,
      undefined,
      404,
      'does not exist',
    ],
    [
      'a body on rotate-secret',
      'post',
      '/v1/tenants/acme/apps/app_nope/rotate-secret',
      { force: true },
      400,
      'force',
    ],
    ['keys of an unknown tenant', 'get', '/v1/tenants/nope/oidc/keys', undefined, 404, 'nope'],
    [
      'rotate keys of an unknown tenant',
      'post',
      '/v1/tenants/nope/oidc/rotate-keys',
      undefined,
      404,
      'nope',
    ],
  ])('%s', async (_case, method, path, body, status, mentioned) => {
    const before = await written();
    const res = await call(method, path, body);
    expect(res.status, res.text).toBe(status);
    expect(res.body.error.message).toContain(mentioned);
    expect(await written()).toEqual(before);
  });

  it('a form body is 415 and writes nothing', async () => {
    const before = await written();
    const res = await call('post', '/v1/tenants/acme/apps')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('name=x');
    expect(res.status).toBe(415);
    expect(await written()).toEqual(before);
  });
});

describe('/v1/tenants/:slug/oidc', () => {
  it('lists no keys before first use; rotating creates the pair and moves it one step', async () => {
    const empty = await call('get', '/v1/tenants/globex/oidc/keys');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ issuer: `${SSO}/oidc/globex`, keys: [] });

    const first = await call('post', '/v1/tenants/globex/oidc/rotate-keys');
    expect(first.status).toBe(200);
    expect(first.body.retired).toHaveLength(1);
    const second = await call('post', '/v1/tenants/globex/oidc/rotate-keys');
    expect(second.body.current).toBe(first.body.next);
    expect(second.body.retired).toEqual([first.body.current, first.body.retired[0]]);

    const keys = await call('get', '/v1/tenants/globex/oidc/keys');
    const listedKeys = keys.body.keys as { status: string }[];
    expect(listedKeys.map((k) => k.status)).toEqual(['current', 'next', 'retired', 'retired']);
    expect(keys.body.keys[0].kid).toBe(second.body.current);
    for (const key of keys.body.keys as { publicJwk: Record<string, unknown> }[]) {
      expect(Object.keys(key.publicJwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
    expect(JSON.stringify(keys.body)).not.toMatch(/"(d|p|q|dp|dq|qi)":/);
  });
});
