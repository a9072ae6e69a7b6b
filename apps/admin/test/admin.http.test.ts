import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, fixedClock, type Clock } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

// ---- the JSON shapes of the admin API, as far as these tests read them ----------------------
interface TenantJson {
  id: string;
  slug: string;
  scimBaseUrl: string;
  gracePeriodDays: number;
  cleanupAfterDays: number | null;
  allowedOrigins: string[];
  createdAt: string;
  updatedAt: string;
}
interface TokenJson {
  id: string;
  description: string | null;
  status: 'active' | 'expired' | 'revoked';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface IssuedTokenJson extends TokenJson {
  token: string;
  scimBaseUrl: string;
}
interface UserJson {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  state: string;
  source: string;
  managedBy: string;
  lastSignInAt: string | null;
  purgeAfter: string | null;
  createdAt: string;
}
interface AuditJson {
  id: number;
  occurredAt: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string | null; id: string | null };
  requestId: string | null;
  changes: Record<string, unknown> | null;
}
interface ErrorJson {
  error: { code: string; message: string; requestId: string };
}

const ADMIN_TOKEN = 'roster_admin_test-token-for-the-admin-api';
const SCIM_BASE_URL = 'https://scim.roster.test';
const NOW = '2026-03-01T12:00:00.000Z';
const TOKEN_FORMAT = /^roster_scim_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let database: TestDatabase;
let app: Express;
const clock = fixedClock(NOW);

function buildApp(adminToken: string | undefined, appClock: Clock = clock): Express {
  return createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: appClock,
    lifecycle: createLifecycle(),
    adminToken,
    scimBaseUrl: SCIM_BASE_URL,
    ssoBaseUrl: 'https://sso.roster.test',
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = buildApp(ADMIN_TOKEN);
});
afterAll(() => database.close());

const bodyOf = <T>(res: { body: unknown }): T => res.body as T;
const bearer = `Bearer ${ADMIN_TOKEN}`;
const get = (path: string, on: Express = app) => request(on).get(path).set('Authorization', bearer);
const post = (path: string, body?: object) => {
  const test = request(app).post(path).set('Authorization', bearer);
  return body === undefined ? test : test.send(body);
};
const patch = (path: string, body: object) =>
  request(app).patch(path).set('Authorization', bearer).send(body);
const del = (path: string) => request(app).delete(path).set('Authorization', bearer);

async function createTenant(slug: string, settings: object = {}): Promise<TenantJson> {
  const res = await post('/v1/tenants', { slug, ...settings });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return bodyOf<TenantJson>(res);
}
async function issueToken(slug: string, body: object = {}): Promise<IssuedTokenJson> {
  const res = await post(`/v1/tenants/${slug}/scim-tokens`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return bodyOf<IssuedTokenJson>(res);
}
async function tenantSlugs(): Promise<string[]> {
  const res = await get('/v1/tenants');
  expect(res.status).toBe(200);
  return bodyOf<{ tenants: TenantJson[] }>(res).tenants.map((t) => t.slug);
}
async function auditEvents(slug: string, query = ''): Promise<AuditJson[]> {
  const res = await get(`/v1/tenants/${slug}/audit${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return bodyOf<{ events: AuditJson[] }>(res).events;
}
async function countRows(table: 'tenants' | 'audit_events' | 'scim_tokens'): Promise<number> {
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('admin API authentication', () => {
  it('when no Authorization header is sent then it answers 401 saying the admin token is missing, and writes nothing', async () => {
    const tenantsBefore = await countRows('tenants');
    const list = await request(app).get('/v1/tenants');
    expect(list.status).toBe(401);
    expect(bodyOf<ErrorJson>(list).error.code).toBe('Unauthorized');
    expect(bodyOf<ErrorJson>(list).error.message).toBe(
      'missing admin token: send Authorization: Bearer <ROSTER_ADMIN_TOKEN>',
    );

    const create = await request(app).post('/v1/tenants').send({ slug: 'sneaky' });
    expect(create.status).toBe(401);
    expect(await countRows('tenants')).toBe(tenantsBefore);
  });

  it('when the Authorization header is not a bearer token then it answers 401 as missing', async () => {
    const res = await request(app)
      .get('/v1/tenants')
      .set('Authorization', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`);
    expect(res.status).toBe(401);
    expect(bodyOf<ErrorJson>(res).error.message).toContain('missing admin token');
  });

  it('when the token is wrong then it answers 401 saying the token is not valid', async () => {
    for (const wrong of ['nope', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
      const res = await request(app).get('/v1/tenants').set('Authorization', `Bearer ${wrong}`);
      expect(res.status).toBe(401);
      expect(bodyOf<ErrorJson>(res).error).toMatchObject({
        code: 'Unauthorized',
        message: 'the admin token is not valid',
      });
    }
  });

  it('when the server has no admin token configured then the admin API is disabled and refuses even a bearer token', async () => {
    const disabled = buildApp(undefined);
    for (const authorization of [undefined, bearer, 'Bearer ']) {
      const test = request(disabled).get('/v1/tenants');
      const res = await (authorization === undefined
        ? test
        : test.set('Authorization', authorization));
      expect(res.status).toBe(401);
      expect(bodyOf<ErrorJson>(res).error.code).toBe('AdminDisabled');
      expect(bodyOf<ErrorJson>(res).error.message).toContain('the admin API is disabled');
      expect(bodyOf<ErrorJson>(res).error.message).toContain('ROSTER_ADMIN_TOKEN');
    }
  });

  it('when the right token is sent then the request is served (the scheme is case-insensitive)', async () => {
    const res = await request(app).get('/v1/tenants').set('Authorization', bearer);
    expect(res.status).toBe(200);
    expect(Array.isArray(bodyOf<{ tenants: unknown }>(res).tenants)).toBe(true);
    const lower = await request(app)
      .get('/v1/tenants')
      .set('Authorization', `bearer ${ADMIN_TOKEN}`);
    expect(lower.status).toBe(200);
  });

  it('keeps the health endpoints outside the admin token', async () => {
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(app).get('/readyz')).status).toBe(200);
  });
});

describe('creating tenants', () => {
  it('when a valid slug is posted then the tenant is created with 201, a Location and its SCIM base URL', async () => {
    const res = await post('/v1/tenants', { slug: 'acme' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/v1/tenants/acme');
    const tenant = bodyOf<TenantJson>(res);
    expect(tenant.id).toMatch(UUID);
    expect(tenant).toMatchObject({
      slug: 'acme',
      scimBaseUrl: `${SCIM_BASE_URL}/scim/v2/acme`,
      gracePeriodDays: 90,
      cleanupAfterDays: null,
      allowedOrigins: [],
    });
    expect(Number.isNaN(Date.parse(tenant.createdAt))).toBe(false);

    const shown = await get('/v1/tenants/acme');
    expect(shown.status).toBe(200);
    expect(bodyOf<TenantJson>(shown)).toEqual(tenant);
  });

  it('when settings are posted with the slug then the tenant starts with them, origins normalised', async () => {
    const tenant = await createTenant('configured', {
      gracePeriodDays: 14,
      cleanupAfterDays: 30,
      allowedOrigins: ['https://App.Example.com:443/'],
    });
    expect(tenant).toMatchObject({
      gracePeriodDays: 14,
      cleanupAfterDays: 30,
      allowedOrigins: ['https://app.example.com'],
    });
  });

  it('when the slug is already taken then it answers 409 and keeps the one tenant', async () => {
    const first = await createTenant('taken');
    const res = await post('/v1/tenants', { slug: 'taken', gracePeriodDays: 1 });
    expect(res.status).toBe(409);
    expect(bodyOf<ErrorJson>(res).error.code).toBe('Conflict');
    expect(bodyOf<ErrorJson>(res).error.message).toContain('already exists');
    expect((await tenantSlugs()).filter((slug) => slug === 'taken')).toEqual(['taken']);
    expect(bodyOf<TenantJson>(await get('/v1/tenants/taken'))).toEqual(first);
  });

  it('when the slug is not valid then it answers 400 and writes neither a tenant nor an audit event', async () => {
    const [tenantsBefore, eventsBefore] = [
      await countRows('tenants'),
      await countRows('audit_events'),
    ];
    for (const slug of ['Not A Slug', '-x', 'a'.repeat(64), '', 'acme_inc', 'Acme']) {
      const res = await post('/v1/tenants', { slug });
      expect(res.status, slug).toBe(400);
      expect(bodyOf<ErrorJson>(res).error.code).toBe('Invalid');
      expect(bodyOf<ErrorJson>(res).error.message).toContain('slug');
      expect(await tenantSlugs()).not.toContain(slug);
    }
    expect(await countRows('tenants')).toBe(tenantsBefore);
    expect(await countRows('audit_events')).toBe(eventsBefore);
  });

  it('accepts a slug of exactly 63 characters, the longest allowed', async () => {
    const slug = `a${'-b'.repeat(31)}`;
    expect(slug).toHaveLength(63);
    expect((await createTenant(slug)).slug).toBe(slug);
  });

  it('when the body has an unknown field or a field of the wrong type then it answers 400 naming it', async () => {
    const unknown = await post('/v1/tenants', { slug: 'extra-field', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(bodyOf<ErrorJson>(unknown).error.code).toBe('Invalid');
    expect(bodyOf<ErrorJson>(unknown).error.message).toContain('colour');

    const wrongType = await post('/v1/tenants', { slug: 42 });
    expect(wrongType.status).toBe(400);
    expect(bodyOf<ErrorJson>(wrongType).error.message).toContain('slug');

    expect((await post('/v1/tenants', {})).status).toBe(400);
    expect(await tenantSlugs()).not.toContain('extra-field');
  });

  it('when the body is not valid JSON then it answers 400 InvalidJson', async () => {
    const res = await request(app)
      .post('/v1/tenants')
      .set('Authorization', bearer)
      .set('Content-Type', 'application/json')
      .send('{"slug": "broken"');
    expect(res.status).toBe(400);
    expect(bodyOf<ErrorJson>(res).error.code).toBe('InvalidJson');
    expect(await tenantSlugs()).not.toContain('broken');
  });
});

describe('reading tenants', () => {
  it('lists every tenant, sorted by slug, each with its SCIM base URL', async () => {
    await createTenant('zulu');
    await createTenant('bravo');
    const res = await get('/v1/tenants');
    expect(res.status).toBe(200);
    const { tenants } = bodyOf<{ tenants: TenantJson[] }>(res);
    const slugs = tenants.map((t) => t.slug);
    expect(slugs).toEqual([...slugs].sort());
    expect(slugs).toEqual(expect.arrayContaining(['bravo', 'zulu']));
    for (const tenant of tenants)
      expect(tenant.scimBaseUrl).toBe(`${SCIM_BASE_URL}/scim/v2/${tenant.slug}`);
  });

  it('shows one tenant by slug', async () => {
    const created = await createTenant('show-me', { gracePeriodDays: 5 });
    const res = await get('/v1/tenants/show-me');
    expect(res.status).toBe(200);
    expect(bodyOf<TenantJson>(res)).toEqual(created);
  });

  it('when the slug does not exist then it answers 404 naming it', async () => {
    const res = await get('/v1/tenants/no-such-tenant');
    expect(res.status).toBe(404);
    expect(bodyOf<ErrorJson>(res).error).toMatchObject({
      code: 'NotFound',
      message: 'tenant "no-such-tenant" does not exist',
    });
  });

  it('when the route does not exist then it answers 404', async () => {
    const res = await get('/v1/nothing-here');
    expect(res.status).toBe(404);
  });
});

describe('tenant settings', () => {
  it('changes the grace period and answers the updated tenant', async () => {
    await createTenant('grace');
    const res = await patch('/v1/tenants/grace', { gracePeriodDays: 30 });
    expect(res.status).toBe(200);
    expect(bodyOf<TenantJson>(res)).toMatchObject({ slug: 'grace', gracePeriodDays: 30 });
    expect(bodyOf<TenantJson>(await get('/v1/tenants/grace')).gracePeriodDays).toBe(30);
    expect(
      bodyOf<TenantJson>(await patch('/v1/tenants/grace', { gracePeriodDays: 0 })).gracePeriodDays,
    ).toBe(0);
  });

  it('turns the JIT cleanup on with a number of days and off with null', async () => {
    await createTenant('cleanup');
    const on = await patch('/v1/tenants/cleanup', { cleanupAfterDays: 45 });
    expect(on.status).toBe(200);
    expect(bodyOf<TenantJson>(on).cleanupAfterDays).toBe(45);
    const off = await patch('/v1/tenants/cleanup', { cleanupAfterDays: null });
    expect(off.status).toBe(200);
    expect(bodyOf<TenantJson>(off).cleanupAfterDays).toBeNull();
    expect(bodyOf<TenantJson>(await get('/v1/tenants/cleanup')).cleanupAfterDays).toBeNull();
  });

  it('leaves settings that are not in the body as they were', async () => {
    await createTenant('partial', {
      gracePeriodDays: 12,
      cleanupAfterDays: 60,
      allowedOrigins: ['https://keep.example'],
    });
    const res = await patch('/v1/tenants/partial', { gracePeriodDays: 13 });
    expect(bodyOf<TenantJson>(res)).toMatchObject({
      gracePeriodDays: 13,
      cleanupAfterDays: 60,
      allowedOrigins: ['https://keep.example'],
    });
  });

  it('normalises allowed origins: no trailing slash, no default port, lower-case host, no duplicates', async () => {
    await createTenant('origins');
    const res = await patch('/v1/tenants/origins', {
      allowedOrigins: [
        'https://a.example/',
        'http://b.example:80',
        'https://C.Example:443',
        'https://d.example:8443/',
        'https://a.example',
      ],
    });
    expect(res.status).toBe(200);
    expect(bodyOf<TenantJson>(res).allowedOrigins).toEqual([
      'https://a.example',
      'http://b.example',
      'https://c.example',
      'https://d.example:8443',
    ]);
    expect(bodyOf<TenantJson>(await get('/v1/tenants/origins')).allowedOrigins).toEqual([
      'https://a.example',
      'http://b.example',
      'https://c.example',
      'https://d.example:8443',
    ]);
    const cleared = await patch('/v1/tenants/origins', { allowedOrigins: [] });
    expect(bodyOf<TenantJson>(cleared).allowedOrigins).toEqual([]);
  });

  it('when a setting is not valid then it answers 400 and changes nothing, not even other fields of the same body', async () => {
    const before = await createTenant('strict', {
      gracePeriodDays: 20,
      allowedOrigins: ['https://ok.example'],
    });
    const eventsBefore = (await auditEvents('strict')).length;
    const bad: object[] = [
      { allowedOrigins: ['https://a.example/path'] },
      { allowedOrigins: ['ftp://a.example'] },
      { allowedOrigins: ['not a url'] },
      { allowedOrigins: ['https://user:pw@a.example'] },
      { allowedOrigins: ['https://a.example/?q=1'] },
      { gracePeriodDays: 7, allowedOrigins: ['https://good.example', 'https://bad.example/x'] },
      { gracePeriodDays: -1 },
      { gracePeriodDays: 3651 },
      { gracePeriodDays: 1.5 },
      { gracePeriodDays: '30' },
      { cleanupAfterDays: 0 },
      { cleanupAfterDays: 'off' },
      { colour: 'red' },
    ];
    for (const body of bad) {
      const res = await patch('/v1/tenants/strict', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(bodyOf<ErrorJson>(res).error.code).toBe('Invalid');
    }
    expect(bodyOf<TenantJson>(await get('/v1/tenants/strict'))).toEqual(before);
    expect(await auditEvents('strict')).toHaveLength(eventsBefore);
  });

  it('names the bad origin in the 400', async () => {
    await createTenant('named-origin');
    const res = await patch('/v1/tenants/named-origin', {
      allowedOrigins: ['ftp://files.example'],
    });
    expect(bodyOf<ErrorJson>(res).error.message).toContain('ftp://files.example');
  });

  it('when the tenant does not exist then a settings change answers 404', async () => {
    const res = await patch('/v1/tenants/ghost', { gracePeriodDays: 3 });
    expect(res.status).toBe(404);
    expect(await tenantSlugs()).not.toContain('ghost');
  });

  it('records tenant.settings_changed with each changed value before and after, by the named operator', async () => {
    const tenant = await createTenant('audited-settings');
    const res = await patch('/v1/tenants/audited-settings', {
      gracePeriodDays: 7,
      cleanupAfterDays: 30,
      allowedOrigins: ['https://x.example/'],
    }).set('X-Roster-Operator', 'carol');
    expect(res.status).toBe(200);
    const changed = (await auditEvents('audited-settings')).filter(
      (e) => e.action === 'tenant.settings_changed',
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      actor: { type: 'operator', id: 'carol' },
      target: { type: 'tenant', id: tenant.id },
      requestId: res.headers['x-request-id'],
      changes: {
        gracePeriodDays: { before: 90, after: 7 },
        cleanupAfterDays: { before: null, after: 30 },
        allowedOrigins: { before: [], after: ['https://x.example'] },
      },
    });
  });

  it('records only the values that really changed, and no event when nothing changed', async () => {
    await createTenant('same-values', { gracePeriodDays: 10, cleanupAfterDays: 5 });
    await patch('/v1/tenants/same-values', { gracePeriodDays: 10, cleanupAfterDays: 6 });
    await patch('/v1/tenants/same-values', { gracePeriodDays: 10 });
    const changed = (await auditEvents('same-values')).filter(
      (e) => e.action === 'tenant.settings_changed',
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]?.changes).toEqual({ cleanupAfterDays: { before: 5, after: 6 } });
  });
});

describe('SCIM tokens', () => {
  it('issues a token shown once, in the roster_scim_<id>_<secret> format, with the SCIM base URL', async () => {
    await createTenant('tok');
    const res = await post('/v1/tenants/tok/scim-tokens', {});
    expect(res.status).toBe(201);
    const issued = bodyOf<IssuedTokenJson>(res);
    const match = TOKEN_FORMAT.exec(issued.token);
    expect(match).not.toBeNull();
    expect(match?.[1]).toBe(issued.id.replaceAll('-', ''));
    expect(issued).toMatchObject({
      status: 'active',
      description: null,
      createdAt: NOW,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      scimBaseUrl: `${SCIM_BASE_URL}/scim/v2/tok`,
    });
  });

  it('issues a token with no body at all', async () => {
    await createTenant('tok-nobody');
    const res = await post('/v1/tenants/tok-nobody/scim-tokens');
    expect(res.status).toBe(201);
    expect(bodyOf<IssuedTokenJson>(res).token).toMatch(TOKEN_FORMAT);
  });

  it("sets expiresAt that many days after the clock's now, and keeps the description", async () => {
    await createTenant('tok-expiry');
    const issued = await issueToken('tok-expiry', {
      expiresInDays: 90,
      description: 'Okta production',
    });
    expect(issued.expiresAt).toBe('2026-05-30T12:00:00.000Z');
    expect(issued.description).toBe('Okta production');
    expect(issued.status).toBe('active');
  });

  it('when the lifetime or description is out of range then it answers 400 and issues nothing', async () => {
    await createTenant('tok-bad');
    for (const body of [
      { expiresInDays: 0 },
      { expiresInDays: 3651 },
      { expiresInDays: '90' },
      { expiresInDays: 1.5 },
      { description: 'x'.repeat(201) },
      { scope: 'all' },
    ]) {
      const res = await post('/v1/tenants/tok-bad/scim-tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      bodyOf<{ tokens: TokenJson[] }>(await get('/v1/tenants/tok-bad/scim-tokens')).tokens,
    ).toEqual([]);
  });

  it('when the tenant does not exist then issuing a token answers 404', async () => {
    const res = await post('/v1/tenants/nobody-here/scim-tokens', {});
    expect(res.status).toBe(404);
    expect((await get('/v1/tenants/nobody-here/scim-tokens')).status).toBe(404);
  });

  it('lists tokens without ever showing a secret, with several live at once', async () => {
    await createTenant('tok-list');
    const first = await issueToken('tok-list', { description: 'old' });
    const second = await issueToken('tok-list', { description: 'new', expiresInDays: 30 });
    const res = await get('/v1/tenants/tok-list/scim-tokens');
    expect(res.status).toBe(200);
    const { tokens } = bodyOf<{ tokens: TokenJson[] }>(res);
    expect(tokens.map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
    expect(tokens.map((t) => t.status)).toEqual(['active', 'active']);
    const text = res.text;
    for (const issued of [first, second]) {
      expect(text).not.toContain(issued.token);
      expect(text).not.toContain(TOKEN_FORMAT.exec(issued.token)?.[2] ?? 'no secret');
    }
    for (const token of tokens) expect(Object.keys(token)).not.toContain('token');
  });

  it('revokes a token with DELETE, leaving the other one active; revoking again changes nothing', async () => {
    await createTenant('tok-revoke');
    const keep = await issueToken('tok-revoke');
    const drop = await issueToken('tok-revoke');
    const res = await del(`/v1/tenants/tok-revoke/scim-tokens/${drop.id}`);
    expect(res.status).toBe(200);
    expect(bodyOf<TokenJson>(res)).toMatchObject({
      id: drop.id,
      status: 'revoked',
      revokedAt: NOW,
    });
    expect(JSON.stringify(res.body)).not.toContain(drop.token);

    const { tokens } = bodyOf<{ tokens: TokenJson[] }>(
      await get('/v1/tenants/tok-revoke/scim-tokens'),
    );
    expect(tokens.find((t) => t.id === drop.id)?.status).toBe('revoked');
    expect(tokens.find((t) => t.id === keep.id)?.status).toBe('active');

    const again = await del(`/v1/tenants/tok-revoke/scim-tokens/${drop.id}`);
    expect(again.status).toBe(200);
    expect(bodyOf<TokenJson>(again)).toMatchObject({ status: 'revoked', revokedAt: NOW });
    expect(
      (await auditEvents('tok-revoke')).filter((e) => e.action === 'scim_token.revoked'),
    ).toHaveLength(1);
  });

  it('when the token id is unknown or not an id then revoking answers 404', async () => {
    await createTenant('tok-unknown');
    const unknown = await del(`/v1/tenants/tok-unknown/scim-tokens/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(bodyOf<ErrorJson>(unknown).error.code).toBe('NotFound');
    expect((await del('/v1/tenants/tok-unknown/scim-tokens/not-an-id')).status).toBe(404);
    // 36 characters that are not a UUID must not reach the database's uuid cast (a 500).
    expect((await del(`/v1/tenants/tok-unknown/scim-tokens/${'a'.repeat(36)}`)).status).toBe(404);
    expect((await del(`/v1/tenants/tok-unknown/scim-tokens/${'-'.repeat(36)}`)).status).toBe(404);
    expect((await del(`/v1/tenants/no-such-tenant/scim-tokens/${randomUUID()}`)).status).toBe(404);
  });

  it("when a token of tenant A is revoked through tenant B's URL then it answers 404 and A's token stays active", async () => {
    await createTenant('tok-a');
    await createTenant('tok-b');
    const tokenOfA = await issueToken('tok-a');
    const res = await del(`/v1/tenants/tok-b/scim-tokens/${tokenOfA.id}`);
    expect(res.status).toBe(404);
    const { tokens } = bodyOf<{ tokens: TokenJson[] }>(await get('/v1/tenants/tok-a/scim-tokens'));
    expect(tokens).toEqual([
      expect.objectContaining({ id: tokenOfA.id, status: 'active', revokedAt: null }),
    ]);
    expect(
      bodyOf<{ tokens: TokenJson[] }>(await get('/v1/tenants/tok-b/scim-tokens')).tokens,
    ).toEqual([]);
  });

  it('lists a token as expired once the clock passes its expiry', async () => {
    await createTenant('tok-expired');
    const issued = await issueToken('tok-expired', { expiresInDays: 1 });
    const later = buildApp(ADMIN_TOKEN, fixedClock('2026-03-02T12:00:00.000Z'));
    const { tokens } = bodyOf<{ tokens: TokenJson[] }>(
      await get('/v1/tenants/tok-expired/scim-tokens', later),
    );
    expect(tokens).toEqual([expect.objectContaining({ id: issued.id, status: 'expired' })]);
    const before = bodyOf<{ tokens: TokenJson[] }>(
      await get('/v1/tenants/tok-expired/scim-tokens'),
    ).tokens;
    expect(before[0]?.status).toBe('active');
  });
});

describe('listing users', () => {
  async function insertUsers(
    tenantId: string,
    names: string[],
    createdAt?: (i: number) => Date,
  ): Promise<void> {
    await database.db
      .insertInto('users')
      .values(
        names.map((userName, i) => ({
          tenant_id: tenantId,
          user_name: userName,
          user_name_key: userName.toLowerCase(),
          source: 'scim' as const,
          managed_by: 'scim' as const,
          ...(createdAt ? { created_at: createdAt(i) } : {}),
        })),
      )
      .execute();
  }
  async function usersPage(
    slug: string,
    query: string,
  ): Promise<{ users: UserJson[]; next?: string }> {
    const res = await get(`/v1/tenants/${slug}/users${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return bodyOf<{ users: UserJson[]; next?: string }>(res);
  }

  it('answers an empty list for a fresh tenant, with no next cursor', async () => {
    await createTenant('users-empty');
    const res = await get('/v1/tenants/users-empty/users');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ users: [] });
  });

  it('pages through users oldest first with limit and next, ending without next', async () => {
    const tenant = await createTenant('users-paged');
    const names = [
      'ann@acme.test',
      'bob@acme.test',
      'cy@acme.test',
      'di@acme.test',
      'ed@acme.test',
    ];
    await insertUsers(tenant.id, names, (i) => new Date(Date.UTC(2026, 0, 1, 0, i)));
    const other = await createTenant('users-other');
    await insertUsers(other.id, ['zed@other.test']);

    const first = await usersPage('users-paged', '?limit=2');
    expect(first.users.map((u) => u.userName)).toEqual(['ann@acme.test', 'bob@acme.test']);
    expect(typeof first.next).toBe('string');
    const second = await usersPage(
      'users-paged',
      `?limit=2&after=${encodeURIComponent(first.next ?? '')}`,
    );
    expect(second.users.map((u) => u.userName)).toEqual(['cy@acme.test', 'di@acme.test']);
    const third = await usersPage(
      'users-paged',
      `?limit=2&after=${encodeURIComponent(second.next ?? '')}`,
    );
    expect(third.users.map((u) => u.userName)).toEqual(['ed@acme.test']);
    expect(third.next).toBeUndefined();

    const all = await usersPage('users-paged', '');
    expect(all.users.map((u) => u.userName)).toEqual(names);
    expect(all.next).toBeUndefined();
    expect(all.users[0]).toMatchObject({
      userName: 'ann@acme.test',
      externalId: null,
      displayName: null,
      state: 'active',
      source: 'scim',
      managedBy: 'scim',
      lastSignInAt: null,
      purgeAfter: null,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(all.users[0]?.id).toMatch(UUID);

    const exact = await usersPage('users-paged', '?limit=5');
    expect(exact.users).toHaveLength(5);
    expect(exact.next).toBeUndefined();
  });

  it('pages users created in the same instant each exactly once', async () => {
    const tenant = await createTenant('users-same-instant');
    const names = Array.from({ length: 7 }, (_, i) => `user${i}@same.test`);
    // One statement: every row gets the same now(), to the microsecond on PostgreSQL.
    await insertUsers(tenant.id, names);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await usersPage(
        'users-same-instant',
        `?limit=3${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      );
      seen.push(...page.users.map((u) => u.userName));
      after = page.next;
      pages += 1;
    } while (after && pages < 10);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...names].sort());
  });

  it('when the cursor or limit is garbage then it answers 400', async () => {
    await createTenant('users-bad-query');
    for (const query of [
      '?after=garbage',
      `?after=${Buffer.from('yesterday|nobody').toString('base64url')}`,
      `?after=${Buffer.from(`2026-01-01T00:00:00.000000Z|${'a'.repeat(36)}`).toString('base64url')}`,
      `?after=${Buffer.from(`2026-01-01T00:00:00.000Z|${randomUUID()}`).toString('base64url')}`,
      '?limit=0',
      '?limit=1001',
      '?limit=ten',
      '?page=2',
    ]) {
      const res = await get(`/v1/tenants/users-bad-query/users${query}`);
      expect(res.status, query).toBe(400);
      expect(bodyOf<ErrorJson>(res).error.code).toBe('Invalid');
    }
  });

  it('when the tenant does not exist then listing users answers 404', async () => {
    expect((await get('/v1/tenants/no-users-here/users')).status).toBe(404);
  });
});

describe('audit trail', () => {
  it('records tenant and token creation with the operator named by X-Roster-Operator, and the request id', async () => {
    const created = await post('/v1/tenants', { slug: 'audit-ops' }).set(
      'X-Roster-Operator',
      'alice',
    );
    expect(created.status).toBe(201);
    const tenant = bodyOf<TenantJson>(created);
    const tokenRes = await post('/v1/tenants/audit-ops/scim-tokens', { expiresInDays: 10 }).set(
      'X-Roster-Operator',
      'bob@example.com',
    );
    const token = bodyOf<IssuedTokenJson>(tokenRes);

    const events = await auditEvents('audit-ops');
    expect(events.map((e) => e.action)).toEqual(['tenant.created', 'scim_token.created']);
    expect(events[0]).toMatchObject({
      actor: { type: 'operator', id: 'alice' },
      target: { type: 'tenant', id: tenant.id },
      requestId: created.headers['x-request-id'],
      changes: {
        slug: 'audit-ops',
        gracePeriodDays: 90,
        cleanupAfterDays: null,
        allowedOrigins: [],
      },
    });
    expect(events[1]).toMatchObject({
      actor: { type: 'operator', id: 'bob@example.com' },
      target: { type: 'scim_token', id: token.id },
      requestId: tokenRes.headers['x-request-id'],
      changes: { expiresAt: '2026-03-11T12:00:00.000Z' },
    });
    expect(JSON.stringify(events)).not.toContain(token.token);
  });

  it('names the operator "admin-api" when the header is missing or not a plain name', async () => {
    await createTenant('audit-anon');
    await post('/v1/tenants/audit-anon/scim-tokens', {}).set('X-Roster-Operator', 'rm -rf /');
    const events = await auditEvents('audit-anon');
    expect(events.map((e) => e.actor)).toEqual([
      { type: 'operator', id: 'admin-api' },
      { type: 'operator', id: 'admin-api' },
    ]);
  });

  it('filters by since (inclusive) and lists oldest first', async () => {
    const tenant = await createTenant('audit-since');
    await database.db
      .insertInto('audit_events')
      .values({
        tenant_id: tenant.id,
        actor_type: 'system',
        action: 'test.long_ago',
        occurred_at: new Date('2020-06-01T00:00:00Z'),
      })
      .execute();

    const all = await auditEvents('audit-since');
    expect(all.map((e) => e.action)).toEqual(['test.long_ago', 'tenant.created']);
    expect(all[0]?.occurredAt).toBe('2020-06-01T00:00:00.000Z');

    expect(
      (await auditEvents('audit-since', '?since=2021-01-01T00:00:00Z')).map((e) => e.action),
    ).toEqual(['tenant.created']);
    expect(
      (
        await auditEvents(
          'audit-since',
          `?since=${encodeURIComponent('2020-06-01T02:00:00+02:00')}`,
        )
      ).map((e) => e.action),
    ).toEqual(['test.long_ago', 'tenant.created']);
    expect(await auditEvents('audit-since', '?since=2999-01-01T00:00:00Z')).toEqual([]);
    // a limit keeps the newest events
    expect((await auditEvents('audit-since', '?limit=1')).map((e) => e.action)).toEqual([
      'tenant.created',
    ]);
  });

  it("filters by user: only the events about that user's id", async () => {
    const tenant = await createTenant('audit-user');
    const [user] = await database.db
      .insertInto('users')
      .values({
        tenant_id: tenant.id,
        user_name: 'ann@audit.test',
        user_name_key: 'ann@audit.test',
        source: 'scim',
        managed_by: 'scim',
      })
      .returning('id')
      .execute();
    const userId = user?.id ?? '';
    await database.db
      .insertInto('audit_events')
      .values([
        {
          tenant_id: tenant.id,
          actor_type: 'scim_token',
          actor_id: 'tok',
          action: 'user.created',
          target_type: 'user',
          target_id: userId,
        },
        {
          tenant_id: tenant.id,
          actor_type: 'scim_token',
          actor_id: 'tok',
          action: 'user.created',
          target_type: 'user',
          target_id: randomUUID(),
        },
      ])
      .execute();

    const mine = await auditEvents('audit-user', `?user=${userId}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      action: 'user.created',
      target: { type: 'user', id: userId },
      actor: { type: 'scim_token', id: 'tok' },
    });
    expect(await auditEvents('audit-user', `?user=${randomUUID()}`)).toEqual([]);
  });

  it("lists only the tenant's own events", async () => {
    const mine = await createTenant('audit-mine');
    await createTenant('audit-theirs');
    const events = await auditEvents('audit-mine');
    expect(events.map((e) => e.target.id)).toEqual([mine.id]);
  });

  it('when since, user or limit is not valid then it answers 400', async () => {
    await createTenant('audit-bad');
    for (const query of [
      '?since=yesterday',
      '?since=2026-13-01T00:00:00Z',
      '?since=1h',
      '?user=not-a-uuid',
      '?limit=0',
      '?verbose=1',
    ]) {
      const res = await get(`/v1/tenants/audit-bad/audit${query}`);
      expect(res.status, query).toBe(400);
      expect(bodyOf<ErrorJson>(res).error.code).toBe('Invalid');
    }
  });

  it('when the tenant does not exist then the audit trail answers 404', async () => {
    expect((await get('/v1/tenants/no-audit-here/audit')).status).toBe(404);
  });
});
