import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  fixedClock,
  revokeScimToken,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '../src/index.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'test' } };
const clock = fixedClock('2026-06-01T00:00:00Z');
let database: TestDatabase;
let app: ReturnType<typeof createScimApp>;
let acmeToken: string;
let globexToken: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await createTenant(db, 'acme', operator);
  await createTenant(db, 'globex', operator);
  acmeToken = (await createScimToken(db, 'acme', { expiresAt: null }, operator, clock)).token;
  globexToken = (await createScimToken(db, 'globex', { expiresAt: null }, operator, clock)).token;
  app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://scim.example.test',
  });
});
afterAll(() => database.close());

const spc = (tenant: string) => request(app).get(`/scim/v2/${tenant}/ServiceProviderConfig`);

function expectScimUnauthorized(res: request.Response) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="roster-scim"/);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  expect(res.body.status).toBe('401');
  expect(res.body.detail).toContain(res.headers['x-request-id']);
}

describe('SCIM endpoint authentication and discovery', () => {
  it('answers ServiceProviderConfig for a valid token of the tenant in the URL', async () => {
    const res = await spc('acme').set('Authorization', `Bearer ${acmeToken}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
    ]);
    expect(res.body.meta).toEqual({
      resourceType: 'ServiceProviderConfig',
      location: 'https://scim.example.test/scim/v2/acme/ServiceProviderConfig',
    });
    expect(res.body.authenticationSchemes).toEqual([
      expect.objectContaining({ type: 'oauthbearertoken' }),
    ]);
    // It states what this server does: PATCH, Bulk, filters, sorting and ETags, never passwords.
    expect(res.body.patch).toEqual({ supported: true });
    expect(res.body.changePassword).toEqual({ supported: false });
  });

  it('refuses a request with no token', async () => {
    expectScimUnauthorized(await spc('acme'));
  });

  it('refuses a token of another tenant', async () => {
    expectScimUnauthorized(await spc('acme').set('Authorization', `Bearer ${globexToken}`));
    expect((await spc('globex').set('Authorization', `Bearer ${globexToken}`)).status).toBe(200);
  });

  it('refuses a token whose secret was altered, and garbage', async () => {
    const altered = acmeToken.slice(0, -1) + (acmeToken.endsWith('A') ? 'B' : 'A');
    expectScimUnauthorized(await spc('acme').set('Authorization', `Bearer ${altered}`));
    expectScimUnauthorized(await spc('acme').set('Authorization', 'Bearer nonsense'));
    expectScimUnauthorized(
      await spc('acme').set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`),
    );
  });

  it('refuses a tenant that does not exist, like a wrong token', async () => {
    expectScimUnauthorized(await spc('nobody').set('Authorization', `Bearer ${acmeToken}`));
  });

  it('refuses a revoked token at once, while another token of the tenant keeps working', async () => {
    const spare = await createScimToken(database.db, 'acme', { expiresAt: null }, operator, clock);
    expect((await spc('acme').set('Authorization', `Bearer ${spare.token}`)).status).toBe(200);
    await revokeScimToken(database.db, 'acme', spare.id, operator, clock);
    expectScimUnauthorized(await spc('acme').set('Authorization', `Bearer ${spare.token}`));
    expect((await spc('acme').set('Authorization', `Bearer ${acmeToken}`)).status).toBe(200);
  });

  it('refuses an expired token', async () => {
    const shortLived = await createScimToken(
      database.db,
      'acme',
      { expiresAt: new Date('2026-06-02T00:00:00Z') },
      operator,
      clock,
    );
    expect((await spc('acme').set('Authorization', `Bearer ${shortLived.token}`)).status).toBe(200);
    clock.set('2026-06-02T00:00:01Z');
    try {
      expectScimUnauthorized(await spc('acme').set('Authorization', `Bearer ${shortLived.token}`));
    } finally {
      clock.set('2026-06-01T00:00:00Z');
    }
  });

  it('answers an unknown SCIM path with a SCIM 404', async () => {
    const res = await request(app)
      .get('/scim/v2/acme/Nope')
      .set('Authorization', `Bearer ${acmeToken}`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
    });
  });
});
