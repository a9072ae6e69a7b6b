// SCIM clients on OAuth, end to end through real HTTP: a SCIM client gets an access token from
// the tenant's token endpoint (SSO app) by the client credentials grant, and the SCIM app takes
// it, as Microsoft Entra's provisioning does. Runs on PGlite and on PostgreSQL (DATABASE_URL).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addOidcApp,
  addScimClient,
  createLogger,
  createScimToken,
  createTenant,
  fixedClock,
  listAuditEvents,
  loadSigningKeys,
  removeScimClient,
  rotateScimClientSecret,
  systemClock,
  tenantIssuerUrl,
  tenantScimUrl,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { createSsoApp } from '@roster/sso';

const operator = { actor: { type: 'operator' as const, id: 'test' } };
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_JSON = 'application/scim+json';
const HOUR_MS = 3_600_000;

let database: TestDatabase;
let servers: Server[] = [];
let scimUrl: string;
let ssoUrl: string;
/** The SCIM app's clock: moved by hand to see a real token expire, without waiting. */
const scimClock = fixedClock(new Date());
let acme: Tenant;
let globex: Tenant;
let scimToken: string;

/** A loopback server whose base URL is known before the app that needs it is built. */
async function loopbackServer(): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = createLogger({ level: 'silent' });
  const scim = await loopbackServer();
  const sso = await loopbackServer();
  scimUrl = scim.url;
  ssoUrl = sso.url;
  scim.server.on(
    'request',
    createScimApp({
      database,
      logger,
      clock: scimClock,
      lifecycle: createLifecycle(),
      baseUrl: scimUrl,
      ssoBaseUrl: ssoUrl,
    }),
  );
  sso.server.on(
    'request',
    createSsoApp({
      database,
      logger,
      clock: systemClock,
      lifecycle: createLifecycle(),
      baseUrl: ssoUrl,
      scimBaseUrl: scimUrl,
    }),
  );
  acme = await createTenant(database.db, 'acme', operator);
  globex = await createTenant(database.db, 'globex', operator);
  scimToken = (
    await createScimToken(database.db, 'acme', { expiresAt: null }, operator, systemClock)
  ).token;
});
afterAll(async () => {
  await Promise.all(servers.map((server) => closeGracefully(server, 2_000)));
  servers = [];
  await database?.close();
});

interface Credentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

async function newClient(tenant: Tenant, tokenLifetimeMinutes?: number): Promise<Credentials> {
  const { client, clientSecret } = await addScimClient(
    database.db,
    tenant.id,
    { name: 'Entra', ...(tokenLifetimeMinutes ? { tokenLifetimeMinutes } : {}) },
    operator,
  );
  return { clientId: client.clientId, clientSecret };
}

/** POST to the tenant's token endpoint: client_secret_basic (RFC 6749 §2.3.1) or _post. */
async function requestToken(
  slug: string,
  credentials: Credentials,
  options: { method?: 'basic' | 'post'; params?: Record<string, string> } = {},
) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...options.params });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.method === 'post') {
    form.set('client_id', credentials.clientId);
    form.set('client_secret', credentials.clientSecret);
  } else {
    const encode = (value: string) => encodeURIComponent(value);
    headers.authorization = `Basic ${Buffer.from(
      `${encode(credentials.clientId)}:${encode(credentials.clientSecret)}`,
    ).toString('base64')}`;
  }
  const res = await fetch(`${tenantIssuerUrl(ssoUrl, slug)}/token`, {
    method: 'POST',
    headers,
    body: form.toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function accessToken(slug: string, credentials: Credentials): Promise<string> {
  const answer = await requestToken(slug, credentials);
  expect(answer.status).toBe(200);
  return String(answer.body.access_token);
}

async function scim(slug: string, token: string, path = '/Users', body?: object) {
  const res = await fetch(`${tenantScimUrl(scimUrl, slug)}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': SCIM_JSON } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    wwwAuthenticate: res.headers.get('www-authenticate'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const user = (userName: string) => ({
  schemas: [USER_SCHEMA],
  userName,
  active: true,
  emails: [{ value: userName, primary: true }],
});

describe('a SCIM client gets a token and provisions with it', () => {
  it('client_secret_basic: a JWT for the SCIM URL, signed with the tenant key; creates a user', async () => {
    const client = await newClient(acme);
    const answer = await requestToken('acme', client);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const token = String(answer.body.access_token);
    const jwks = jose.createRemoteJWKSet(new URL(`${tenantIssuerUrl(ssoUrl, 'acme')}/jwks`));
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: tenantIssuerUrl(ssoUrl, 'acme'),
      audience: tenantScimUrl(scimUrl, 'acme'),
      typ: 'at+jwt',
    });
    const [current] = (await loadSigningKeys(database.db, acme.id)).keys;
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: current?.kid });
    expect(payload).toMatchObject({ client_id: client.clientId, sub: client.clientId });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);

    const created = await scim('acme', token, '/Users', user('ann@example.com'));
    expect(created.status).toBe(201);
    const events = await listAuditEvents(database.db, acme.id, {
      targetId: String(created.body.id),
    });
    expect(events[0]?.actor).toEqual({ type: 'scim_token', id: client.clientId });
  });

  it('client_secret_post with scope scim, and the client’s own lifetime', async () => {
    const client = await newClient(acme, 120);
    const answer = await requestToken('acme', client, {
      method: 'post',
      params: { scope: 'scim' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ expires_in: 7200, scope: 'scim' });
    expect((await scim('acme', String(answer.body.access_token))).status).toBe(200);
  });

  it("keeps today's SCIM tokens working", async () => {
    expect((await scim('acme', scimToken)).status).toBe(200);
  });
});

describe('what the token endpoint refuses', () => {
  it('a wrong secret, an unknown client, another tenant’s client: invalid_client', async () => {
    const client = await newClient(acme);
    const wrong = await requestToken('acme', {
      ...client,
      clientSecret: `${client.clientSecret}x`,
    });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const posted = await requestToken(
      'acme',
      { ...client, clientSecret: 'roster_cs_wrong' },
      { method: 'post' },
    );
    expect(posted).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const unknown = await requestToken('acme', { clientId: 'app_nobody', clientSecret: 'x' });
    expect(unknown.body.error).toBe('invalid_client');
    const foreign = await requestToken('globex', client);
    expect(foreign.body.error).toBe('invalid_client');
  });

  it('an app (not a SCIM client) asking for client credentials, and another resource', async () => {
    const { app, clientSecret } = await addOidcApp(
      database.db,
      acme.id,
      { name: 'Wiki', redirectUris: ['https://wiki.example.com/cb'] },
      operator,
    );
    const asApp = await requestToken('acme', {
      clientId: app.clientId,
      clientSecret: clientSecret ?? '',
    });
    // oidc-provider answers invalid_request here (RFC 6749 §5.2 would say unauthorized_client).
    expect(asApp).toMatchObject({
      status: 400,
      body: { error_description: 'requested grant type is not allowed for this client' },
    });
    const client = await newClient(acme);
    const elsewhere = await requestToken('acme', client, {
      params: { resource: tenantScimUrl(scimUrl, 'globex') },
    });
    expect(elsewhere.body.error).toBe('invalid_target');
  });
});

describe('what the SCIM endpoint refuses', () => {
  it("another tenant's token: 401", async () => {
    const token = await accessToken('globex', await newClient(globex));
    expect((await scim('globex', token)).status).toBe(200);
    const refused = await scim('acme', token, '/Users', user('eve@example.com'));
    expect(refused.status).toBe(401);
    expect(refused.wwwAuthenticate).toContain('invalid_token');
  });

  it('a tampered token: 401', async () => {
    const token = await accessToken('acme', await newClient(acme));
    const [header, payload = '', signature = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.exp) + 86_400 }));
    expect(
      (await scim('acme', `${header}.${longer.toString('base64url')}.${signature}`)).status,
    ).toBe(401);
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await scim('acme', `${header}.${payload}.${flipped}`)).status).toBe(401);
  });

  it('an expired token: 401 saying so, by the clock and by a token forged already expired', async () => {
    const client = await newClient(acme);
    const token = await accessToken('acme', client);
    expect((await scim('acme', token)).status).toBe(200);
    scimClock.set(new Date(Date.now() + HOUR_MS + 1000));
    try {
      const expired = await scim('acme', token);
      expect(expired.status).toBe(401);
      expect(expired.body.detail).toMatch(/access token has expired/);
      expect(expired.wwwAuthenticate).toContain('error_description="the access token has expired');
    } finally {
      scimClock.set(new Date());
    }
    const key = (await loadSigningKeys(database.db, acme.id)).keys[0] as jose.JWK & { kid: string };
    const now = Math.floor(Date.now() / 1000);
    const forged = await new jose.SignJWT({ client_id: client.clientId, iat: now - 7200 })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(tenantIssuerUrl(ssoUrl, 'acme'))
      .setAudience(tenantScimUrl(scimUrl, 'acme'))
      .setExpirationTime(now - 3600)
      .sign(await jose.importJWK(key, 'RS256'));
    const refused = await scim('acme', forged);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/access token has expired/);
  });

  it("a removed client's token, and a token from before a secret rotation: 401", async () => {
    const removed = await newClient(acme);
    const token = await accessToken('acme', removed);
    expect((await scim('acme', token)).status).toBe(200);
    await removeScimClient(database.db, acme.id, removed.clientId, operator);
    expect((await scim('acme', token)).status).toBe(401);
    expect((await requestToken('acme', removed)).body.error).toBe('invalid_client');

    const rotated = await newClient(acme);
    const before = await accessToken('acme', rotated);
    // iat has whole seconds: the rotation is recorded in the second after the token's.
    const issuedAt = Number(jose.decodeJwt(before).iat);
    const { clientSecret } = await rotateScimClientSecret(
      database.db,
      acme.id,
      rotated.clientId,
      operator,
      fixedClock(new Date((issuedAt + 1) * 1000)),
    );
    expect((await scim('acme', before)).status).toBe(401);
    expect((await requestToken('acme', rotated)).body.error).toBe('invalid_client');
    const renewed = await requestToken('acme', { clientId: rotated.clientId, clientSecret });
    expect(renewed.status).toBe(200);
  });
});
