import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createTenant,
  fixedClock,
  MAX_SCIM_LOG_ENTRIES,
  recordScimRequest,
  REDACTED,
  type ChangeContext,
  type ScimRequestRecord,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

interface ScimRequestJson {
  id: number;
  occurredAt: string;
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  tokenId: string | null;
  userAgent: string | null;
  requestBody: unknown;
  responseBody: unknown;
}

const TOKEN = 'scim-log-admin-token-0123456789abcdef';
const ctx: ChangeContext = { actor: { type: 'system' } };
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
let database: TestDatabase;
let app: ReturnType<typeof createAdminApp>;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: fixedClock(at(60)),
    lifecycle: createLifecycle(),
    adminToken: TOKEN,
    scimBaseUrl: 'http://scim.test',
    ssoBaseUrl: 'http://sso.test',
  });
  tenantId = (await createTenant(database.db, 'logged', ctx)).id;
  const other = (await createTenant(database.db, 'other', ctx)).id;
  const entry = (minute: number, status: number, extra: Partial<ScimRequestRecord> = {}) =>
    recordScimRequest(database.db, tenantId, {
      occurredAt: at(minute),
      requestId: `r${minute}`,
      method: 'POST',
      path: '/scim/v2/logged/Users',
      status,
      durationMs: 7,
      ...extra,
    });
  await entry(0, 201, { requestBody: { userName: 'ana', password: 'hunter2' } });
  await entry(10, 409, {
    responseBody: { status: '409', scimType: 'uniqueness', detail: 'userName is taken' },
  });
  await entry(20, 404);
  await entry(30, 500);
  await recordScimRequest(database.db, other, {
    occurredAt: at(5),
    requestId: 'elsewhere',
    method: 'GET',
    path: '/scim/v2/other/Users',
    status: 200,
    durationMs: 1,
  });
});
afterAll(() => database.close());

const get = (path: string) => request(app).get(path).set('Authorization', `Bearer ${TOKEN}`);
const requestIds = async (query: string) => {
  const res = await get(`/v1/tenants/logged/scim-log${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body as { entries: ScimRequestJson[] }).entries.map((e) => e.requestId);
};

describe('GET /v1/tenants/:slug/scim-log', () => {
  it("lists the tenant's requests oldest first, with redacted bodies and ISO times", async () => {
    const res = await get('/v1/tenants/logged/scim-log');
    expect(res.status).toBe(200);
    const { entries } = res.body as { entries: ScimRequestJson[] };
    expect(entries.map((e) => e.requestId)).toEqual(['r0', 'r10', 'r20', 'r30']);
    expect(entries[0]).toEqual({
      id: expect.any(Number),
      occurredAt: '2026-03-01T00:00:00.000Z',
      requestId: 'r0',
      method: 'POST',
      path: '/scim/v2/logged/Users',
      status: 201,
      durationMs: 7,
      tokenId: null,
      userAgent: null,
      requestBody: { userName: 'ana', password: REDACTED },
      responseBody: null,
    });
    expect(entries[1]?.responseBody).toMatchObject({ scimType: 'uniqueness' });
  });

  it('filters by since, status class, exact status and limit', async () => {
    expect(await requestIds('?since=2026-03-01T00:15:00Z')).toEqual(['r20', 'r30']);
    expect(await requestIds('?since=2026-03-01T01:15:00%2B01:00')).toEqual(['r20', 'r30']);
    expect(await requestIds('?status=4xx')).toEqual(['r10', 'r20']);
    expect(await requestIds('?status=5XX')).toEqual(['r30']);
    expect(await requestIds('?status=409')).toEqual(['r10']);
    expect(await requestIds('?status=2xx&since=2026-03-01T00:01:00Z')).toEqual([]);
    expect(await requestIds('?limit=1')).toEqual(['r30']);
    expect(await requestIds(`?limit=${MAX_SCIM_LOG_ENTRIES}`)).toHaveLength(4);
  });

  it('when a query parameter is not valid then it answers 400 naming it', async () => {
    for (const query of [
      '?since=yesterday',
      '?since=1h',
      '?status=4x',
      '?status=600',
      '?status=error',
      '?limit=0',
      `?limit=${MAX_SCIM_LOG_ENTRIES + 1}`,
      '?verbose=1',
    ]) {
      const res = await get(`/v1/tenants/logged/scim-log${query}`);
      expect(res.status, query).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('Invalid');
    }
  });

  it('when the tenant does not exist then it answers 404, and without the admin token 401', async () => {
    expect((await get('/v1/tenants/nobody/scim-log')).status).toBe(404);
    expect((await request(app).get('/v1/tenants/logged/scim-log')).status).toBe(401);
  });
});
