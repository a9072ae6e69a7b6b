import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixedClock } from '../clock.js';
import type { Db } from '../db/transaction.js';
import { createLogger } from '../logger.js';
import { recordScimRequest } from '../scim-log/scim-request-log.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { scheduleMaintenance } from './maintenance.js';
import { createUserFromScim } from './provision-from-scim.js';

const DAY = 86_400_000;
let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

async function logEntries(tenantId: string, ages: readonly number[]): Promise<void> {
  for (const [i, age] of ages.entries()) {
    await recordScimRequest(db, tenantId, {
      occurredAt: new Date(Date.parse('2026-05-01T00:00:00Z') - age),
      requestId: `r${i}`,
      method: 'GET',
      path: '/scim/v2/t/Users',
      status: 200,
      durationMs: 1,
    });
  }
}
const remaining = async (tenantId: string) =>
  (
    await db
      .selectFrom('scim_request_log')
      .select('request_id')
      .where('tenant_id', '=', tenantId)
      .orderBy('request_id')
      .execute()
  ).map((row) => row.request_id);

describe('scheduleMaintenance and the SCIM request log', () => {
  it('prunes entries older than the retention on each run, and leaves the log alone without one', async () => {
    const clock = fixedClock('2026-05-01T00:00:00Z');
    const logger = createLogger({ level: 'silent' });
    const kept = (
      await db
        .insertInto('tenants')
        .values({ slug: 'maint-off' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await logEntries(kept, [30 * DAY]);
    // A user past its purge date shows that a run happened; the old log entry stays.
    const due = await db
      .insertInto('users')
      .values({
        tenant_id: kept,
        user_name: 'gone',
        user_name_key: 'gone',
        source: 'scim',
        managed_by: 'scim',
        lifecycle_state: 'deprovisioned',
        deprovisioned_at: new Date('2026-01-01T00:00:00Z'),
        purge_after: new Date('2026-02-01T00:00:00Z'),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const stopWithout = scheduleMaintenance(db, clock, logger, 5);
    try {
      await vi.waitFor(
        async () =>
          expect(
            await db.selectFrom('users').select('id').where('id', '=', due.id).execute(),
          ).toEqual([]),
        { timeout: 5_000, interval: 20 },
      );
    } finally {
      await stopWithout();
    }
    expect(await remaining(kept)).toEqual(['r0']);

    const pruned = (
      await db
        .insertInto('tenants')
        .values({ slug: 'maint-on' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await logEntries(pruned, [8 * DAY, 6 * DAY, 10 * DAY]);
    const stop = scheduleMaintenance(db, clock, logger, 5, { scimLogRetentionDays: 7 });
    try {
      await vi.waitFor(async () => expect(await remaining(pruned)).toEqual(['r1']), {
        timeout: 5_000,
        interval: 20,
      });
      expect(await remaining(kept)).toEqual([]);
    } finally {
      await stop();
    }
  });
});

describe('scheduleMaintenance and the events retention', () => {
  it('prunes events past EVENTS_RETENTION_DAYS and logs how many', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination: sink });
    const tenantId = (
      await db
        .insertInto('tenants')
        .values({ slug: 'maint-events' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    for (const name of ['a', 'b', 'c'])
      await createUserFromScim(
        db,
        tenantId,
        { userName: `${name}@example.com` },
        { actor: { type: 'scim_token', id: 'tok' } },
        fixedClock(),
      );
    // Ten days on, with a retention of one day: the three events are past it.
    const clock = fixedClock(new Date(Date.now() + 10 * DAY));
    const stop = scheduleMaintenance(db, clock, logger, 5, { eventsRetentionDays: 1 });
    try {
      await vi.waitFor(
        () => expect(lines.find((line) => line.msg === 'jobs.events_prune.done')).toBeDefined(),
        { timeout: 5_000, interval: 20 },
      );
    } finally {
      await stop();
    }
    // The earlier test's purge wrote an event too, as old by now.
    const done = lines.find((line) => line.msg === 'jobs.events_prune.done');
    expect(done).toMatchObject({ retentionDays: 1 });
    expect(done?.events).toBeGreaterThanOrEqual(3);
    expect(done?.tenants).toBeGreaterThanOrEqual(1);
    expect(
      await db
        .selectFrom('change_outbox')
        .select('seq')
        .where('tenant_id', '=', tenantId)
        .execute(),
    ).toEqual([]);
  });
});
