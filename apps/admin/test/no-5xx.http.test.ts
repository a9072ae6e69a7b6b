// No input gives the admin API a 5xx: impossible dates, bad percent-encoding, unstorable text and
// deep nesting are each a 400 that says what is wrong, and nothing is written.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createTenant,
  fixedClock,
  listScimTokens,
  MAX_JSON_DEPTH,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const TOKEN = 'no-5xx-admin-token-0123456789abcdef';
let database: TestDatabase;
let app: ReturnType<typeof createAdminApp>;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: fixedClock('2026-06-01T00:00:00Z'),
    lifecycle: createLifecycle(),
    adminToken: TOKEN,
    scimBaseUrl: 'http://scim.test',
    ssoBaseUrl: 'http://sso.test',
  });
  await createTenant(database.db, 'acme', { actor: { type: 'system' } });
});
afterAll(() => database.close());

const admin = (method: 'get' | 'post' | 'patch' | 'delete', path: string) =>
  request(app)[method](path).set('Authorization', `Bearer ${TOKEN}`);

/** The admin API's error body, with no internal (JavaScript or SQL) text in it. */
function expectError(res: request.Response, status: number): string {
  expect(res.status, res.text).toBe(status);
  const error = (res.body as { error?: { message?: unknown } }).error;
  expect(typeof error?.message).toBe('string');
  expect(res.text).not.toMatch(
    /TypeError|RangeError|Maximum call stack|SQLSTATE|syntax|violates|URIError|Failed to decode/i,
  );
  return String(error?.message);
}

describe('impossible dates in since', () => {
  it.each(['2024-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2024-01-01T24:00:00Z'])(
    'scim-log and audit answer 400 naming %s',
    async (since) => {
      for (const path of ['/v1/tenants/acme/scim-log', '/v1/tenants/acme/audit']) {
        const res = await admin('get', `${path}?since=${encodeURIComponent(since)}`);
        const message = expectError(res, 400);
        expect(message).toContain('since');
        expect(message).toContain(since);
      }
    },
  );

  it('a real date is still taken', async () => {
    const res = await admin('get', '/v1/tenants/acme/scim-log?since=2024-02-29T00:00:00Z');
    expect(res.status).toBe(200);
  });
});

describe('bad percent-encoding in a path segment', () => {
  it.each([
    '/v1/tenants/%FF',
    '/v1/tenants/%E0%A4%A/users',
    '/v1/tenants/acme/scim-tokens/%C0%AF',
    '/v1/tenants/acme/idps/%ED%A0%80',
  ])('%s is 400', async (path) => {
    const message = expectError(await admin('get', path), 400);
    expect(message).toContain('percent-encoded');
  });
});

describe('request bodies', () => {
  it('a lone surrogate anywhere in a body is 400 and writes nothing', async () => {
    const before = (await listScimTokens(database.db, 'acme')).length;
    const res = await admin('post', '/v1/tenants/acme/scim-tokens')
      .set('Content-Type', 'application/json')
      .send('{"description":"laptop \\ud800"}');
    expect(expectError(res, 400)).toContain('surrogate');
    expect((await listScimTokens(database.db, 'acme')).length).toBe(before);
  });

  it(`a body nested deeper than ${MAX_JSON_DEPTH} levels is 400 naming the limit`, async () => {
    const res = await admin('patch', '/v1/tenants/acme')
      .set('Content-Type', 'application/json')
      .send(`{"allowedOrigins":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(expectError(res, 400)).toContain(`${MAX_JSON_DEPTH} levels`);
  });

  it('a NameID over the indexed text limit in explain is 400, not a database error', async () => {
    const res = await admin('post', '/v1/tenants/acme/explain')
      .set('Content-Type', 'application/json')
      .send({ idp: 'any', nameId: 'x'.repeat(1000) });
    expect(res.status).toBeLessThan(500);
  });
});
