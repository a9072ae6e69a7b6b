import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import { CoreError } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { MAX_LOGGED_BODY_BYTES, REDACTED } from './redaction.js';
import {
  listScimRequests,
  MAX_SCIM_LOG_ENTRIES,
  parseStatusFilter,
  pruneScimRequestLog,
  recordScimRequest,
  type ScimRequestRecord,
} from './scim-request-log.repository.js';

const T0 = Date.parse('2026-01-10T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const TOKEN = `roster_scim_${'c'.repeat(32)}_${'D'.repeat(43)}`;
const TOKEN_ID = '0b0e7f0c-2f6e-4a6e-9d55-0c1c2d3e4f50';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

async function newTenantId(slug: string): Promise<string> {
  const row = await db
    .insertInto('tenants')
    .values({ slug })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const entry = (overrides: Partial<ScimRequestRecord> = {}): ScimRequestRecord => ({
  occurredAt: at(0),
  requestId: 'req-1',
  method: 'GET',
  path: '/scim/v2/t/Users',
  status: 200,
  durationMs: 3,
  ...overrides,
});

describe('recordScimRequest and listScimRequests', () => {
  it('keeps every field, with passwords and tokens redacted', async () => {
    const tenantId = await newTenantId('log-fields');
    await recordScimRequest(db, tenantId, {
      occurredAt: at(5),
      requestId: 'req-create',
      method: 'POST',
      path: `/scim/v2/log-fields/Users?token=${TOKEN}`,
      status: 409,
      durationMs: 12.6,
      tokenId: TOKEN_ID,
      userAgent: 'Okta SCIM Client 1.0',
      requestBody: { userName: 'ana', password: 'hunter2', note: TOKEN },
      responseBody: { status: '409', scimType: 'uniqueness', detail: 'taken' },
    });
    const [logged, ...rest] = await listScimRequests(db, tenantId);
    expect(rest).toEqual([]);
    expect(logged).toEqual({
      id: expect.any(Number),
      tenantId,
      occurredAt: at(5),
      requestId: 'req-create',
      method: 'POST',
      path: `/scim/v2/log-fields/Users?token=roster_scim_${REDACTED}`,
      status: 409,
      durationMs: 13,
      tokenId: TOKEN_ID,
      userAgent: 'Okta SCIM Client 1.0',
      requestBody: { userName: 'ana', password: REDACTED, note: `roster_scim_${REDACTED}` },
      responseBody: { status: '409', scimType: 'uniqueness', detail: 'taken' },
    });
  });

  it('stores any JSON body (arrays, strings), no body as null, and a huge body truncated', async () => {
    const tenantId = await newTenantId('log-bodies');
    await recordScimRequest(db, tenantId, entry({ requestBody: ['a', 1], responseBody: 'text' }));
    await recordScimRequest(db, tenantId, entry({ occurredAt: at(1) }));
    await recordScimRequest(
      db,
      tenantId,
      entry({ occurredAt: at(2), requestBody: { blob: 'y'.repeat(2 * MAX_LOGGED_BODY_BYTES) } }),
    );
    const [arrays, none, huge] = await listScimRequests(db, tenantId);
    expect(arrays).toMatchObject({ requestBody: ['a', 1], responseBody: 'text' });
    expect(none).toMatchObject({ requestBody: null, responseBody: null, tokenId: null });
    expect(huge?.requestBody).toMatchObject({
      'roster:truncated': true,
      bytes: 2 * MAX_LOGGED_BODY_BYTES + '{"blob":""}'.length,
    });
  });

  it('lists the newest entries oldest first, filtered by since, status class or status, and limited', async () => {
    const tenantId = await newTenantId('log-filter');
    const other = await newTenantId('log-filter-other');
    const statuses = [200, 201, 404, 409, 429, 500, 204];
    for (const [i, status] of statuses.entries())
      await recordScimRequest(
        db,
        tenantId,
        entry({ occurredAt: at(i), status, requestId: `r${i}` }),
      );
    await recordScimRequest(db, other, entry({ status: 404 }));

    const ids = async (query: Parameters<typeof listScimRequests>[2]) =>
      (await listScimRequests(db, tenantId, query)).map((e) => e.requestId);
    expect(await ids({})).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(await ids({ since: at(4) })).toEqual(['r4', 'r5', 'r6']);
    expect(await ids({ status: '4xx' })).toEqual(['r2', 'r3', 'r4']);
    expect(await ids({ status: '2XX' })).toEqual(['r0', 'r1', 'r6']);
    expect(await ids({ status: 404 })).toEqual(['r2']);
    expect(await ids({ status: '429' })).toEqual(['r4']);
    expect(await ids({ status: '5xx', since: at(6) })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual(['r5', 'r6']);
    expect(await ids({ status: '4xx', limit: 1 })).toEqual(['r4']);
    expect(await ids({ limit: MAX_SCIM_LOG_ENTRIES * 10 })).toHaveLength(statuses.length);
  });

  it('refuses a status filter that is neither a class nor a status, before querying', async () => {
    for (const bad of ['4x', '600', 'abc', '99', '4xxx', ''])
      expect(() => parseStatusFilter(bad)).toThrow(CoreError);
    expect(parseStatusFilter('4xx')).toEqual([400, 499]);
    expect(parseStatusFilter(201)).toEqual([201, 201]);
    await expect(
      listScimRequests(db, await newTenantId('log-bad'), { status: 'nope' }),
    ).rejects.toThrow(/status must be a class like 4xx/);
  });

  it('goes with its tenant', async () => {
    const tenantId = await newTenantId('log-cascade');
    await recordScimRequest(db, tenantId, entry());
    await db.deleteFrom('tenants').where('id', '=', tenantId).execute();
    const left = await db
      .selectFrom('scim_request_log')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .execute();
    expect(left).toEqual([]);
  });
});

describe('pruneScimRequestLog', () => {
  it('deletes only entries older than the retention, in bounded batches, reporting progress', async () => {
    const tenantId = await newTenantId('log-prune');
    const clock = fixedClock(at(0));
    const day = 86_400;
    // 7 entries 8..14 days old, 3 entries within the last 7 days.
    for (let i = 0; i < 7; i++)
      await recordScimRequest(
        db,
        tenantId,
        entry({ occurredAt: at(-(8 + i) * day), requestId: `old${i}` }),
      );
    for (let i = 0; i < 3; i++)
      await recordScimRequest(
        db,
        tenantId,
        entry({ occurredAt: at(-i * day), requestId: `new${i}` }),
      );

    const progress: number[] = [];
    const first = await pruneScimRequestLog(db, clock, {
      retentionDays: 7,
      batchSize: 2,
      maxBatches: 2,
      onBatch: (n) => progress.push(n),
    });
    expect(first).toEqual({ deleted: 4, more: true });
    expect(progress).toEqual([2, 4]);
    const second = await pruneScimRequestLog(db, clock, { retentionDays: 7, batchSize: 2 });
    expect(second).toEqual({ deleted: 3, more: false });
    expect((await listScimRequests(db, tenantId)).map((e) => e.requestId).sort()).toEqual([
      'new0',
      'new1',
      'new2',
    ]);
    expect(await pruneScimRequestLog(db, clock, { retentionDays: 7 })).toEqual({
      deleted: 0,
      more: false,
    });
    // A shorter retention takes more.
    expect(await pruneScimRequestLog(db, clock, { retentionDays: 1 })).toEqual({
      deleted: 1,
      more: false,
    });
  });

  it('refuses a retention below one day (0 means the log is off, not "delete everything")', async () => {
    await expect(pruneScimRequestLog(db, fixedClock(), { retentionDays: 0 })).rejects.toThrow(
      CoreError,
    );
  });
});
