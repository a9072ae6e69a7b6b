import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, outboundPolicyFrom, systemClock } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { TestIdp, createTestKeyPair } from '@roster/sso/testing';
import { createAdminApp } from '../src/index.js';

const ADMIN_TOKEN = 'roster_admin_test-token-for-the-idp-routes';
const SSO = 'https://sso.roster.test';
let database: TestDatabase;
let app: Express;
let okta: TestIdp;
let metadataServer: Server;
let metadataUrl: string;

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
    // The metadata server of these tests listens on loopback.
    outboundPolicy: outboundPolicyFrom('127.0.0.1'),
  });
  okta = await TestIdp.create({ entityId: 'http://www.okta.com/exk1' });
  const served = await TestIdp.create({ entityId: 'https://served.example/idp' });
  metadataServer = createServer((_req, res) => res.end(served.metadataXml()));
  await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
  metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/metadata`;
  await call('post', '/v1/tenants', { slug: 'acme' });
});
afterAll(async () => {
  metadataServer.close();
  await database.close();
});

function call(method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) {
  const test = request(app)[method](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  return body === undefined ? test : test.send(body);
}

describe('/v1/tenants/:slug/idps', () => {
  it('adds an IdP from metadata XML and answers with what the IdP admin pastes', async () => {
    const res = await call('post', '/v1/tenants/acme/idps', {
      metadataXml: okta.metadataXml(),
      preset: 'okta',
      groupsAttribute: 'memberOf',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    expect(res.body).toMatchObject({
      name: 'okta',
      entityId: `${SSO}/saml/acme/${id}/metadata`,
      acsUrl: `${SSO}/saml/acme/${id}/acs`,
      loginUrl: `${SSO}/saml/acme/${id}/login`,
      metadataUrl: `${SSO}/saml/acme/${id}/metadata`,
      whoamiUrl: `${SSO}/saml/acme/whoami`,
      logoutUrl: `${SSO}/saml/acme/logout`,
      idp: { entityId: 'http://www.okta.com/exk1', ssoUrl: okta.ssoUrl, sloUrl: okta.sloUrl },
      jitPolicy: 'create',
      matchBy: 'username',
      groupsAttribute: 'memberOf',
      allowIdpInitiated: false,
      wantResponseSigned: true,
    });
    expect(res.body.idp.signingCertificates).toHaveLength(1);
    expect(res.body.idp.signingCertificates[0].subject).toContain('CN=test-idp');
  });

  it('adds an IdP from a metadata URL', async () => {
    const res = await call('post', '/v1/tenants/acme/idps', { metadataUrl, name: 'served' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.idp).toMatchObject({ entityId: 'https://served.example/idp', metadataUrl });
  });

  it('refuses a metadata URL on loopback unless ROSTER_OUTBOUND_ALLOW_HOSTS lists it', async () => {
    const strict = createAdminApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
      lifecycle: createLifecycle(),
      adminToken: ADMIN_TOKEN,
      scimBaseUrl: 'https://scim.roster.test',
      ssoBaseUrl: SSO,
    });
    const res = await request(strict)
      .post('/v1/tenants/acme/idps')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ metadataUrl, name: 'internal' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(
      /127\.0\.0\.1 is a loopback address; list it in ROSTER_OUTBOUND_ALLOW_HOSTS/,
    );
    expect((await call('get', '/v1/tenants/acme/idps/internal')).status).toBe(404);
  });

  it('refuses bad metadata with a message naming what is wrong, storing nothing', async () => {
    const before = (await call('get', '/v1/tenants/acme/idps')).body.idps.length;
    const bad = await call('post', '/v1/tenants/acme/idps', {
      metadataXml: okta.metadataXml().replace(/<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/g, ''),
      name: 'broken',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/no signing certificate/);
    const none = await call('post', '/v1/tenants/acme/idps', { name: 'nothing' });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/metadata is missing/);
    const preset = await call('post', '/v1/tenants/acme/idps', {
      metadataXml: okta.metadataXml(),
      preset: 'ping',
    });
    expect(preset.status).toBe(400);
    const unreachable = await call('post', '/v1/tenants/acme/idps', {
      metadataUrl: 'http://127.0.0.1:9/metadata',
    });
    expect(unreachable.status).toBe(400);
    expect(unreachable.body.error.message).toMatch(/could not fetch IdP metadata/);
    expect((await call('get', '/v1/tenants/acme/idps')).body.idps).toHaveLength(before);
  });

  it('lists, shows, rotates certificates, changes settings and removes', async () => {
    const list = await call('get', '/v1/tenants/acme/idps');
    expect((list.body.idps as { name: string }[]).map((i) => i.name)).toEqual(['okta', 'served']);
    expect((await call('get', '/v1/tenants/acme/idps/okta')).body.name).toBe('okta');

    const next = await createTestKeyPair('test-idp-2027');
    const rotated = await call('patch', '/v1/tenants/acme/idps/okta', {
      metadataXml: okta.metadataXml({ extraCertificates: [next.certificate] }),
      allowIdpInitiated: true,
      matchBy: 'both',
      attributeMap: { userName: 'login' },
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.idp.signingCertificates).toHaveLength(2);
    expect(rotated.body).toMatchObject({ allowIdpInitiated: true, matchBy: 'both', version: 2 });
    expect(rotated.body.attributeMap.userName).toBe('login');
    expect(rotated.body.attributeMap.email).toBe('email');

    const removed = await call('delete', '/v1/tenants/acme/idps/served');
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ removed: { name: 'served' }, sessionsEnded: 0 });
    expect((await call('get', '/v1/tenants/acme/idps/served')).status).toBe(404);
    expect((await call('get', '/v1/tenants/nope/idps')).status).toBe(404);
  });
});
