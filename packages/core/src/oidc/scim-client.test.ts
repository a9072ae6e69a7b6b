import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import { fixedClock, systemClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { tenantIssuerUrl, tenantScimUrl } from '../urls/url-layouts.js';
import {
  addOidcApp,
  findOidcApp,
  getOidcApp,
  listOidcApps,
  removeOidcApp,
  rotateOidcAppSecret,
  updateOidcApp,
} from './oidc-app.js';
import { scimAccessTokenVerifier } from './scim-access-token.js';
import {
  addScimClient,
  findScimClient,
  listScimClients,
  MAX_SCIM_TOKEN_LIFETIME_MINUTES,
  MIN_SCIM_TOKEN_LIFETIME_MINUTES,
  removeScimClient,
  rotateScimClientSecret,
} from './scim-client.js';
import { loadSigningKeys } from './signing-keys.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' } };
const urls = { ssoBaseUrl: 'https://sso.example.com', scimBaseUrl: 'https://scim.example.com' };

let database: TestDatabase;
let db: Db;
let acme: Tenant;
let globex: Tenant;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  acme = await createTenant(db, 'acme', operator);
  globex = await createTenant(db, 'globex', operator);
});
afterAll(async () => {
  await database.close();
});

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CoreError);
  return (error as CoreError).code;
}

/** An access token as the tenant's token endpoint makes one, signed with its current key. */
async function forge(
  tenant: Tenant,
  claims: Record<string, unknown>,
  options: { typ?: string } = {},
) {
  const current = (await loadSigningKeys(db, tenant.id)).keys[0] as JWK & { kid: string };
  const key = await importJWK(current, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'scim', iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: current.kid, typ: options.typ ?? 'at+jwt' })
    .setIssuer(tenantIssuerUrl(urls.ssoBaseUrl, tenant.slug))
    .setAudience(tenantScimUrl(urls.scimBaseUrl, tenant.slug))
    .sign(key);
}

describe('SCIM clients', () => {
  it('registers one with a secret shown once, stored hashed, and audits it', async () => {
    const { client, clientSecret } = await addScimClient(
      db,
      acme.id,
      { name: 'Entra', tokenLifetimeMinutes: 120 },
      operator,
    );
    expect(client.clientId).toMatch(/^app_[A-Za-z0-9_-]{22}$/);
    expect(clientSecret).toMatch(/^roster_cs_[A-Za-z0-9_-]{43}$/);
    expect(client.tokenLifetimeMinutes).toBe(120);
    const app = await findOidcApp(db, acme.id, client.clientId);
    expect(app).toMatchObject({ kind: 'scim', redirectUris: [], isPublic: false });
    const events = await listAuditEvents(db, acme.id, { targetId: client.id });
    expect(events.map((e) => e.action)).toEqual(['oidc_app.created']);
    expect(JSON.stringify(events)).not.toContain(clientSecret);
  });

  it('defaults the token lifetime to 60 minutes and refuses one outside 60-360', async () => {
    const { client } = await addScimClient(db, acme.id, { name: 'Default' }, operator);
    expect(client.tokenLifetimeMinutes).toBe(60);
    const before = (await listScimClients(db, acme.id)).length;
    for (const minutes of [
      MIN_SCIM_TOKEN_LIFETIME_MINUTES - 1,
      MAX_SCIM_TOKEN_LIFETIME_MINUTES + 1,
      90.5,
      Number.NaN,
    ]) {
      const error = await addScimClient(
        db,
        acme.id,
        { name: 'Bad', tokenLifetimeMinutes: minutes },
        operator,
      ).catch((thrown: CoreError) => thrown);
      expect(error).toBeInstanceOf(CoreError);
      expect((error as CoreError).message).toContain('from 60 to 360');
    }
    expect(await codeOf(addScimClient(db, acme.id, { name: ' ' }, operator))).toBe('Invalid');
    expect((await listScimClients(db, acme.id)).length).toBe(before);
  });

  it('keeps apps and SCIM clients apart, and tenants apart', async () => {
    const { app } = await addOidcApp(
      db,
      acme.id,
      { name: 'Wiki', redirectUris: ['https://wiki.example.com/cb'] },
      operator,
    );
    const listed = await listScimClients(db, acme.id);
    expect(listed.every((c) => c.clientId !== app.clientId)).toBe(true);
    expect(await findScimClient(db, acme.id, app.clientId)).toBeUndefined();
    expect(await codeOf(removeScimClient(db, acme.id, app.clientId, operator))).toBe('NotFound');
    expect(await codeOf(rotateScimClientSecret(db, acme.id, app.clientId, operator))).toBe(
      'NotFound',
    );
    const { client } = await addScimClient(db, acme.id, { name: 'Entra' }, operator);
    expect(await findScimClient(db, globex.id, client.clientId)).toBeUndefined();
    expect(await codeOf(removeScimClient(db, globex.id, client.clientId, operator))).toBe(
      'NotFound',
    );
  });
});

describe('SCIM access tokens', () => {
  const verifier = () => scimAccessTokenVerifier(db, urls, systemClock);

  it('accepts a token of the tenant issued to a live SCIM client', async () => {
    const { client } = await addScimClient(db, acme.id, { name: 'Entra' }, operator);
    const token = await forge(acme, { client_id: client.clientId, sub: client.clientId });
    const result = await verifier()('acme', token);
    expect(result).toMatchObject({ ok: true, clientId: client.clientId });
    expect(result.ok && result.tenant.id).toBe(acme.id);
  });

  it('refuses another tenant, a tampered, an expired, a foreign-audience or an ID token', async () => {
    const { client } = await addScimClient(db, acme.id, { name: 'Entra' }, operator);
    const claims = { client_id: client.clientId };
    const check = verifier();
    const token = await forge(acme, claims);
    expect(await check('globex', token)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await check('nobody', token)).toEqual({ ok: false, reason: 'unknown_tenant' });
    const [header, payload = '', signature] = token.split('.');
    const changed = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), exp: 2e9 }),
    ).toString('base64url');
    expect(await check('acme', `${header}.${changed}.${signature}`)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const past = Math.floor(Date.now() / 1000) - 7200;
    expect(
      await check('acme', await forge(acme, { ...claims, iat: past, exp: past + 3600 })),
    ).toEqual({
      ok: false,
      reason: 'expired',
    });
    // A fixed clock past the expiry refuses a token that is fresh now.
    const later = scimAccessTokenVerifier(
      db,
      urls,
      fixedClock(new Date(Date.now() + 2 * 3600_000)),
    );
    expect(await later('acme', token)).toEqual({ ok: false, reason: 'expired' });
    const otherAudience = scimAccessTokenVerifier(
      db,
      { ...urls, scimBaseUrl: 'https://elsewhere.example.com' },
      systemClock,
    );
    expect(await otherAudience('acme', token)).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(await check('acme', await forge(acme, claims, { typ: 'JWT' }))).toMatchObject({
      ok: false,
    });
    expect(await check('acme', 'roster_scim_x')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses the tokens of a removed client, and those from before a secret rotation', async () => {
    const check = verifier();
    const { client } = await addScimClient(db, acme.id, { name: 'Entra' }, operator);
    const rotated = await addScimClient(db, acme.id, { name: 'Rotated' }, operator);
    const beforeRotation = Math.floor(Date.now() / 1000) - 5;
    const old = await forge(acme, { client_id: rotated.client.clientId, iat: beforeRotation });
    await rotateScimClientSecret(db, acme.id, rotated.client.clientId, operator);
    expect(await check('acme', old)).toEqual({ ok: false, reason: 'secret_rotated' });
    const token = await forge(acme, { client_id: client.clientId });
    expect((await check('acme', token)).ok).toBe(true);
    await removeScimClient(db, acme.id, client.clientId, operator);
    expect(await check('acme', token)).toEqual({ ok: false, reason: 'unknown_client' });
    const { app } = await addOidcApp(
      db,
      acme.id,
      { name: 'Wiki', redirectUris: ['https://wiki.example.com/cb'] },
      operator,
    );
    expect(await check('acme', await forge(acme, { client_id: app.clientId }))).toEqual({
      ok: false,
      reason: 'unknown_client',
    });
  });
});

describe('apps and SCIM clients stay apart', () => {
  it("a SCIM client is no app to the app commands, and an app no SCIM client to the SCIM's", async () => {
    const { client } = await addScimClient(db, acme.id, { name: 'Entra' }, operator);
    const { app } = await addOidcApp(
      db,
      acme.id,
      { name: 'Wiki', redirectUris: ['https://wiki.example.com/cb'] },
      operator,
    );
    expect((await listOidcApps(db, acme.id)).map((a) => a.clientId)).not.toContain(client.clientId);
    expect((await listScimClients(db, acme.id)).map((c) => c.clientId)).not.toContain(app.clientId);
    expect(await codeOf(getOidcApp(db, acme.id, client.clientId))).toBe('NotFound');
    expect(
      await codeOf(
        updateOidcApp(
          db,
          acme.id,
          client.clientId,
          { redirectUris: ['https://x.example/cb'] },
          operator,
        ),
      ),
    ).toBe('NotFound');
    expect(await codeOf(removeOidcApp(db, acme.id, client.clientId, operator))).toBe('NotFound');
    expect(await codeOf(rotateOidcAppSecret(db, acme.id, client.clientId, operator))).toBe(
      'NotFound',
    );
    expect(await codeOf(removeScimClient(db, acme.id, app.clientId, operator))).toBe('NotFound');
    expect(await findScimClient(db, acme.id, client.clientId)).toBeDefined();
  });
});
