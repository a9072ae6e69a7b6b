// One tenant's long /Bulk must not stall the others. On the embedded database every query goes
// through one session; a /Bulk of 1,000 operations runs 1,000 transactions one after another,
// and if none of them lets the event loop read another request, every other tenant waits for
// the whole /Bulk. The check is on order, not time: a GET sent while the /Bulk runs answers first.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createUserFromScim,
  deleteUserFromScim,
  fixedClock,
  purgeExpiredUsers,
} from '@roster/core';
import { MAX_BULK_OPERATIONS } from '../../src/scim-config.js';
import {
  BULK_REQUEST_SCHEMA,
  operator,
  startScim,
  USER_SCHEMA,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

/** The channel core notifies on each committed change, with the tenant id as payload. */
const CHANGES_CHANNEL = 'roster_changes';
const LONG_REQUEST_TIMEOUT_MS = 110_000;

let harness: ScimHarness;
let busy: TenantClient;
let other: TenantClient;

beforeAll(async () => {
  harness = await startScim();
  busy = await harness.tenant('busy');
  other = await harness.tenant('other');
  expect(
    (await other.post('/Users', { schemas: [USER_SCHEMA], userName: 'bo@other.test' })).status,
  ).toBe(201);
});
afterAll(() => harness.close());

describe('one tenant’s long work', () => {
  it('lets another tenant’s GET answer while a 1,000-operation /Bulk runs', async () => {
    const order: string[] = [];
    let answered: Promise<request.Response> | undefined;
    // Sent once the /Bulk has committed its first operation, so it surely arrives mid-/Bulk.
    const stop = await harness.database.listen(CHANGES_CHANNEL, (tenantId) => {
      if (tenantId !== busy.tenant.id || answered) return;
      answered = other.get('/Users?count=1').then((res) => {
        order.push('get');
        return res;
      });
    });
    const operations = Array.from({ length: MAX_BULK_OPERATIONS }, (_, i) => ({
      method: 'POST',
      path: '/Users',
      bulkId: `u${i}`,
      data: { schemas: [USER_SCHEMA], userName: `u${i}@busy.test` },
    }));
    const bulk = await request(harness.app)
      .post('/scim/v2/busy/Bulk')
      .set('Authorization', `Bearer ${busy.token}`)
      .set('Content-Type', 'application/scim+json')
      .timeout(LONG_REQUEST_TIMEOUT_MS)
      .send(JSON.stringify({ schemas: [BULK_REQUEST_SCHEMA], Operations: operations }))
      .then((res) => {
        order.push('bulk');
        return res;
      });
    await stop();

    expect(bulk.status).toBe(200);
    const results = bulk.body.Operations as { status: string }[];
    expect(results.filter((r) => r.status === '201')).toHaveLength(MAX_BULK_OPERATIONS);
    expect(answered).toBeDefined();
    const get = await answered;
    expect(get?.status).toBe(200);
    expect(get?.body.Resources[0].userName).toBe('bo@other.test');
    expect(order).toEqual(['get', 'bulk']);
  }, 120_000);

  it('lets another tenant’s GET answer while a purge runs its batches', async () => {
    const gone = await harness.tenant('gone');
    for (let i = 0; i < 200; i++) {
      const { user } = await createUserFromScim(
        harness.db,
        gone.tenant.id,
        { userName: `p${i}@gone.test` },
        operator,
        harness.clock,
      );
      await deleteUserFromScim(harness.db, gone.tenant.id, user.id, operator, harness.clock);
    }
    const order: string[] = [];
    let answered: Promise<request.Response> | undefined;
    // Small batches, so that the purge is several transactions like a large one in production.
    const purge = purgeExpiredUsers(harness.db, fixedClock('2027-06-01T00:00:00Z'), {
      tenantId: gone.tenant.id,
      batchSize: 25,
      onProgress: () => {
        answered ??= other.get('/Users?count=1').then((res) => {
          order.push('get');
          return res;
        });
      },
    }).then((summary) => {
      order.push('purge');
      return summary;
    });

    expect((await purge).purged).toBe(200);
    expect((await answered)?.status).toBe(200);
    expect(order).toEqual(['get', 'purge']);
  }, 120_000);
});
