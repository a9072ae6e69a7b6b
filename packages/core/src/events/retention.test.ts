import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendChange } from '../changes/outbox.js';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { isCoreError } from '../errors.js';
import { encodeChangeCursor } from '../directory/change-feed.js';
import { openDirectory } from '../directory/index.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { runEventsRetention } from '../provisioning/maintenance.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { createLogger } from '../logger.js';
import { outboundPolicyFrom } from '../outbound/outbound-policy.js';
import { deliverDueWebhooks } from '../webhooks/webhook-delivery.js';
import {
  createWebhook,
  disableWebhook,
  enableWebhook,
  getWebhook,
} from '../webhooks/webhook.repository.js';
import { eventId, readEvents } from './event.js';
import { eventsPrunedSeq, pruneEvents, pruneOrphanDirectoryCounts } from './retention.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' }, requestId: 'req-ret' };
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

let tenants = 0;
const newTenant = async () => (await createTenant(db, `ret-${++tenants}`, operator)).id;
/** Now, as the database sees it: rows get occurred_at from now(). */
const clock = () => fixedClock(new Date());

async function writeUsers(tenantId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await createUserFromScim(
      db,
      tenantId,
      { userName: `u${i}-${Math.random()}@example.com` },
      scim,
      clock(),
    );
  }
}

/** Makes the tenant's events up to `seq` older than the retention. */
async function age(tenantId: string, upToSeq: number): Promise<void> {
  const old = new Date(Date.now() - (RETENTION_DAYS + 1) * DAY_MS);
  await db
    .updateTable('change_outbox')
    .set({ occurred_at: old })
    .where('tenant_id', '=', tenantId)
    .where('seq', '<=', upToSeq)
    .execute();
}

async function seqsOf(tenantId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('change_outbox')
    .select('seq')
    .where('tenant_id', '=', tenantId)
    .orderBy('seq')
    .execute();
  return rows.map((row) => Number(row.seq));
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('events retention', () => {
  it('deletes events past the retention in batches, records how far, and keeps the rest', async () => {
    const tenantId = await newTenant();
    await writeUsers(tenantId, 25);
    await age(tenantId, 20);
    const batches: number[] = [];
    const summary = await pruneEvents(db, clock(), {
      retentionDays: RETENTION_DAYS,
      batchSize: 7,
      onBatch: (deleted) => batches.push(deleted),
    });
    expect(summary.deleted).toBeGreaterThanOrEqual(20);
    expect(await seqsOf(tenantId)).toEqual(range(21, 25));
    expect(await eventsPrunedSeq(db, tenantId)).toBe(20);
    // 7 rows per statement at most: 7, 14, 20 for this tenant.
    expect(batches.slice(-3)).toEqual([summary.deleted - 13, summary.deleted - 6, summary.deleted]);
    // A second run finds nothing more to do.
    expect((await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS })).deleted).toBe(0);
  });

  it('refuses a read after a pruned seq with Gone, and reads from the boundary on', async () => {
    const tenantId = await newTenant();
    await writeUsers(tenantId, 6);
    await age(tenantId, 4);
    await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS });
    for (const afterSeq of [0, 3]) {
      const refused = await readEvents(db, tenantId, { afterSeq, limit: 10 }).catch(
        (error: unknown) => error,
      );
      expect(isCoreError(refused, 'Gone')).toBe(true);
      expect((refused as Error).message).toContain(eventId(tenantId, 4));
    }
    const { events } = await readEvents(db, tenantId, { afterSeq: 4, limit: 10 });
    expect(events.map((event) => event.seq)).toEqual([5, 6]);
  });

  it('ends a change feed resumed from a pruned cursor with Gone; without a cursor it starts at the oldest kept', async () => {
    const tenantId = await newTenant();
    await writeUsers(tenantId, 5);
    await age(tenantId, 3);
    await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS });
    const directory = await openDirectory(
      database.target.kind === 'postgres' ? { databaseUrl: database.target.url } : { database },
    );
    try {
      const stale = directory.changes({ since: encodeChangeCursor(tenantId, 2) });
      const refused = await stale.next().catch((error: unknown) => error);
      expect(isCoreError(refused, 'Gone')).toBe(true);
      const fresh = directory.changes({ tenant: `ret-${tenants}` });
      const seqs = [(await fresh.next()).value?.seq, (await fresh.next()).value?.seq];
      expect(seqs).toEqual([4, 5]);
      await fresh.return(undefined);
    } finally {
      await directory.close();
    }
  });

  it('keeps what an enabled webhook endpoint still owes, and not for a disabled one', async () => {
    const tenantId = await newTenant();
    await writeUsers(tenantId, 3);
    const { webhook } = await createWebhook(
      db,
      tenantId,
      { url: 'https://receiver.example.test/hook' },
      operator,
    );
    expect(webhook.deliveredSeq).toBe(3);
    await writeUsers(tenantId, 5);
    await age(tenantId, 8);
    await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS });
    // Delivered up to 3: events 4 to 8 are still owed, old as they are.
    expect(await seqsOf(tenantId)).toEqual(range(4, 8));
    expect(await eventsPrunedSeq(db, tenantId)).toBe(3);
    await disableWebhook(db, tenantId, webhook.id, operator);
    await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS });
    expect(await seqsOf(tenantId)).toEqual([]);
    expect(await eventsPrunedSeq(db, tenantId)).toBe(8);
  });

  it('moves a webhook re-enabled after its events were pruned on to the oldest kept event', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push((JSON.parse(body) as { id: string }).id);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const policy = outboundPolicyFrom('127.0.0.1');
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const tenantId = await newTenant();
      const { webhook } = await createWebhook(db, tenantId, { url }, operator, { policy });
      await disableWebhook(db, tenantId, webhook.id, operator);
      await writeUsers(tenantId, 4);
      await age(tenantId, 3);
      await pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS });
      await enableWebhook(db, tenantId, webhook.id, operator);
      const worker = { policy, logger: createLogger({ level: 'silent' }) };
      await deliverDueWebhooks(db, worker);
      await deliverDueWebhooks(db, worker);
      // Events 1 to 3 are gone: the endpoint gets 4, and is not stuck on what it cannot have.
      expect(received).toEqual([eventId(tenantId, 4)]);
      const after = await getWebhook(db, tenantId, webhook.id);
      expect(after).toMatchObject({ deliveredSeq: 4, state: 'enabled', failingSince: null });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('prunes the counters of deleted tenants, and only those', async () => {
    const kept = await newTenant();
    await writeUsers(kept, 1);
    const doomed = await newTenant();
    await writeUsers(doomed, 2);
    await db.deleteFrom('tenants').where('id', '=', doomed).execute();
    const countersOf = (tenantId: string) =>
      db.selectFrom('directory_counts').select('slot').where('tenant_id', '=', tenantId).execute();
    const orphans = await countersOf(doomed);
    expect(orphans.length).toBeGreaterThan(0);

    const summary = await runEventsRetention(db, clock(), RETENTION_DAYS);
    expect(summary.directoryCounts).toBe(orphans.length);
    expect(await countersOf(doomed)).toEqual([]);
    expect((await countersOf(kept)).length).toBeGreaterThan(0);
    expect((await pruneOrphanDirectoryCounts(db)).deleted).toBe(0);
  });

  it('prunes while 8 writers write: every write commits, and pruning never waits on a writer', async () => {
    const tenantId = await newTenant();
    await writeUsers(tenantId, 40);
    await age(tenantId, 40);
    if (database.target.kind === 'postgres') {
      // A write holds the tenant row from its outbox append to its commit: pruning the tenant
      // goes through meanwhile (it would wait here for ever if it needed that row).
      await db.transaction().execute(async (tx) => {
        await appendChange(tx, tenantId, {
          kind: 'user.updated',
          entityType: 'user',
          entityId: '00000000-0000-4000-8000-000000000001',
        });
        const summary = await pruneEvents(db, clock(), {
          retentionDays: RETENTION_DAYS,
          batchSize: 5,
        });
        expect(summary.deleted).toBeGreaterThanOrEqual(40);
      });
    }
    const writers = Array.from({ length: 8 }, (_, writer) =>
      (async () => {
        for (let i = 0; i < 5; i++)
          await createUserFromScim(
            db,
            tenantId,
            { userName: `w${writer}-${i}@example.com` },
            scim,
            clock(),
          );
      })(),
    );
    const pruning = pruneEvents(db, clock(), { retentionDays: RETENTION_DAYS, batchSize: 3 });
    await Promise.all([...writers, pruning]);
    const seqs = await seqsOf(tenantId);
    const pruned = await eventsPrunedSeq(db, tenantId);
    expect(pruned).toBeGreaterThanOrEqual(40);
    // Everything after the boundary is there, without a gap: 40 writes (and the held one).
    const latest = Number(
      (
        await sql<{
          seq: number;
        }>`select outbox_seq as seq from tenants where id = ${tenantId}`.execute(db)
      ).rows[0]?.seq,
    );
    expect(latest).toBe(database.target.kind === 'postgres' ? 81 : 80);
    expect(seqs).toEqual(range(pruned + 1, latest));
  });
});
