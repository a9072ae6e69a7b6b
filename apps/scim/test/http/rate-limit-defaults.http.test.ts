// The default per-tenant rate limit lets a fast sequential conformance client and Okta's 75
// concurrent connections through (README "Rate limit"); the mechanism itself is tested in
// scim-request-log.http.test.ts with a tiny limit.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@roster/core';
import { createLifecycle } from '@roster/http';
import { createScimApp, scimConfigSchema } from '../../src/index.js';
import { startScim, type ScimHarness, type TenantClient } from './setup.js';

/** Okta's documented org-wide limit of concurrent transactions. */
const OKTA_CONCURRENT_CONNECTIONS = 75;

let scim: ScimHarness;
let acme: TenantClient;
let app: ReturnType<typeof createScimApp>;

beforeAll(async () => {
  scim = await startScim();
  acme = await scim.tenant('acme');
  const config = loadConfig(scimConfigSchema, {});
  app = createScimApp({
    database: scim.database,
    logger: createLogger({ level: 'silent' }),
    clock: scim.clock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://scim.example.test',
    config: { scimLogRetentionDays: 0, scimRateLimit: config.scimRateLimit },
  });
});
afterAll(() => scim.close());

const get = () =>
  request(app).get('/scim/v2/acme/Users?count=1').set('Authorization', `Bearer ${acme.token}`);

describe('default SCIM rate limit', () => {
  it('is on by default', () => {
    expect(loadConfig(scimConfigSchema, {}).scimRateLimit).not.toBeNull();
  });

  it('lets a sequential client sending as fast as it can through', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 400; i++) statuses.add((await get()).status);
    expect([...statuses]).toEqual([200]);
  });

  it("lets waves of Okta's 75 concurrent connections through", async () => {
    const statuses = new Set<number>();
    for (let wave = 0; wave < 6; wave++) {
      const answers = await Promise.all(
        Array.from({ length: OKTA_CONCURRENT_CONNECTIONS }, () => get()),
      );
      for (const res of answers) statuses.add(res.status);
    }
    expect([...statuses]).toEqual([200]);
  });
});
