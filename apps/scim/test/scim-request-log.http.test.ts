import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  fixedClock,
  listScimRequests,
  REDACTED,
  type ChangeContext,
  type ScimRequestLogEntry,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createScimApp, MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE } from '../src/index.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'test' } };
const clock = fixedClock('2026-06-01T00:00:00Z');
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
let database: TestDatabase;
let app: ReturnType<typeof createScimApp>;
const tokens: Record<string, { token: string; id: string }> = {};
const tenantIds: Record<string, string> = {};

beforeAll(async () => {
  database = await createTestDatabase();
  for (const slug of ['acme', 'quiet', 'noisy', 'globex', 'unlogged']) {
    tenantIds[slug] = (await createTenant(database.db, slug, operator)).id;
    tokens[slug] = await createScimToken(database.db, slug, { expiresAt: null }, operator, clock);
  }
  app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://scim.example.test',
    config: { scimLogRetentionDays: 7, scimRateLimit: null },
  });
});
afterAll(() => database.close());

const bearer = (slug: string) => `Bearer ${tokens[slug]?.token ?? ''}`;

/** The entry is written after the response is sent: wait until the log holds `count` of them. */
async function loggedEntries(slug: string, count: number): Promise<ScimRequestLogEntry[]> {
  return vi.waitFor(
    async () => {
      const entries = await listScimRequests(database.db, tenantIds[slug] ?? '');
      expect(entries).toHaveLength(count);
      return entries;
    },
    { timeout: 5_000, interval: 20 },
  );
}

describe('SCIM request log', () => {
  it('keeps a request with its status, token, user agent, duration and response body', async () => {
    const res = await request(app)
      .get('/scim/v2/acme/ServiceProviderConfig?attributes=patch')
      .set('Authorization', bearer('acme'))
      .set('User-Agent', 'Okta SCIM Client 1.0');
    expect(res.status).toBe(200);
    const [entry] = await loggedEntries('acme', 1);
    expect(entry).toMatchObject({
      requestId: res.headers['x-request-id'],
      method: 'GET',
      path: '/scim/v2/acme/ServiceProviderConfig?attributes=patch',
      status: 200,
      tokenId: tokens.acme?.id,
      userAgent: 'Okta SCIM Client 1.0',
      occurredAt: clock.now(),
      requestBody: null,
      responseBody: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        meta: { resourceType: 'ServiceProviderConfig' },
      },
    });
    expect(entry?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps a failed write with its request body redacted and the SCIM error it got', async () => {
    const res = await request(app)
      .post('/scim/v2/acme/Nowhere')
      .set('Authorization', bearer('acme'))
      .set('Content-Type', 'application/scim+json')
      .send(
        JSON.stringify({
          userName: 'ana@example.com',
          password: 'hunter2',
          notes: `pasted ${tokens.acme?.token ?? ''}`,
          Operations: [{ op: 'replace', path: 'password', value: 'swordfish' }],
        }),
      );
    expect(res.status).toBe(404);
    const entry = (await loggedEntries('acme', 2))[1];
    expect(entry).toMatchObject({
      method: 'POST',
      path: '/scim/v2/acme/Nowhere',
      status: 404,
      requestBody: {
        userName: 'ana@example.com',
        password: REDACTED,
        notes: `pasted roster_scim_${REDACTED}`,
        Operations: [{ op: 'replace', path: 'password', value: REDACTED }],
      },
      responseBody: { schemas: [ERROR_SCHEMA], status: '404', detail: res.body.detail },
    });
    const stored = JSON.stringify(await listScimRequests(database.db, tenantIds.acme ?? ''));
    expect(stored).not.toContain('hunter2');
    expect(stored).not.toContain('swordfish');
    expect(stored).not.toContain(tokens.acme?.token);
  });

  it('keeps a refused request (401) against the tenant in the URL, with no token and no Authorization', async () => {
    const wrong = `Bearer ${tokens.globex?.token ?? ''}`;
    const res = await request(app)
      .get('/scim/v2/quiet/ServiceProviderConfig')
      .set('Authorization', wrong);
    expect(res.status).toBe(401);
    const [entry] = await loggedEntries('quiet', 1);
    expect(entry).toMatchObject({ status: 401, tokenId: null, requestBody: null });
    expect(entry?.responseBody).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
    expect(JSON.stringify(entry)).not.toContain(tokens.globex?.token);
    // A tenant that does not exist has no log to write to.
    expect((await request(app).get('/scim/v2/nobody/ServiceProviderConfig')).status).toBe(401);
  });

  it(`keeps at most ${MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE} refused requests per tenant and minute`, async () => {
    const attempts = MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE + 5;
    for (let i = 0; i < attempts; i++)
      expect((await request(app).get('/scim/v2/noisy/Users')).status).toBe(401);
    // An authenticated request is always kept.
    expect(
      (await request(app).get('/scim/v2/noisy/Users').set('Authorization', bearer('noisy'))).status,
    ).toBe(200);
    const entries = await loggedEntries('noisy', MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE + 1);
    expect(entries.filter((e) => e.status === 401)).toHaveLength(
      MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE,
    );
  });

  it('keeps nothing when the retention is 0', async () => {
    const off = createScimApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock,
      lifecycle: createLifecycle(),
      baseUrl: 'https://scim.example.test',
      config: { scimLogRetentionDays: 0, scimRateLimit: null },
    });
    expect(
      (await request(off).get('/scim/v2/unlogged/Nope').set('Authorization', bearer('unlogged')))
        .status,
    ).toBe(404);
    // A request through the logging app afterwards is the only entry there is.
    await request(app).get('/scim/v2/unlogged/Nope').set('Authorization', bearer('unlogged'));
    expect((await loggedEntries('unlogged', 1))[0]?.path).toBe('/scim/v2/unlogged/Nope');
  });
});

describe('SCIM request log when the write fails', () => {
  it('answers the request normally and logs a warning', async () => {
    const broken = await createTestDatabase();
    try {
      await createTenant(broken.db, 'acme', operator);
      const { token } = await createScimToken(
        broken.db,
        'acme',
        { expiresAt: null },
        operator,
        clock,
      );
      await broken.db.schema.dropTable('scim_request_log').execute();
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const brokenApp = createScimApp({
        database: broken,
        logger: createLogger({ level: 'warn', destination }),
        clock,
        lifecycle: createLifecycle(),
        baseUrl: 'https://scim.example.test',
        config: { scimLogRetentionDays: 7, scimRateLimit: null },
      });
      const res = await request(brokenApp)
        .get('/scim/v2/acme/ServiceProviderConfig')
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
      await vi.waitFor(() => expect(lines.join('')).toContain('scim.request_log.write_failed'), {
        timeout: 5_000,
        interval: 20,
      });
    } finally {
      await broken.close();
    }
  });
});

describe('per-tenant rate limit', () => {
  const BURST = 3;
  let limited: ReturnType<typeof createScimApp>;
  beforeAll(() => {
    limited = createScimApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock,
      lifecycle: createLifecycle(),
      baseUrl: 'https://scim.example.test',
      // One request a second, three at once: a fast burst of five sees exactly two refusals.
      config: { scimLogRetentionDays: 7, scimRateLimit: { perSecond: 1, burst: BURST } },
    });
  });
  const spc = (slug: string, authorization?: string) => {
    const req = request(limited).get(`/scim/v2/${slug}/ServiceProviderConfig`);
    return authorization ? req.set('Authorization', authorization) : req;
  };

  it('answers 429 with Retry-After and a SCIM error beyond the burst, and another tenant is unaffected', async () => {
    // Anonymous requests do not count against the tenant.
    for (let i = 0; i < BURST + 2; i++) expect((await spc('globex')).status).toBe(401);

    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (let i = 0; i < BURST + 2; i++) {
      const res = await spc('globex', bearer('globex'));
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(refused?.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(refused?.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(refused?.body).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '429',
      detail: expect.stringContaining(String(refused?.headers['x-request-id'])),
    });
    expect(refused?.body).not.toHaveProperty('scimType');

    expect((await spc('acme', bearer('acme'))).status).toBe(200);

    // The refusals are in the tenant's log, with the token that was refused.
    const entries = await vi.waitFor(
      async () => {
        const found = await listScimRequests(database.db, tenantIds.globex ?? '', {
          status: 429,
        });
        expect(found).toHaveLength(2);
        return found;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(entries[0]).toMatchObject({ tokenId: tokens.globex?.id, status: 429 });
  });
});
