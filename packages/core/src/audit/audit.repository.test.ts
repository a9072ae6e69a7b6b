import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeContext } from '../context/actor.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { listAuditEvents, recordAudit, type AuditRecord } from './audit.repository.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'token-1' }, requestId: 'req-1' };

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

/** Records the events in one transaction, in the order given. */
async function record(
  tenantId: string | null,
  events: readonly AuditRecord[],
  context: ChangeContext = scim,
): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const event of events) await recordAudit(tx, tenantId, context, event);
  });
}

describe('recordAudit and listAuditEvents', () => {
  it('round-trips every field of an event', async () => {
    const tenantId = await newTenantId('round-trip');
    await record(tenantId, [
      {
        action: 'user.created',
        target: { type: 'user', id: 'u-1' },
        changes: {
          userName: 'ann@example.com',
          emails: ['ann@example.com'],
          nested: { active: true },
        },
        occurredAt: at(5),
      },
    ]);
    await record(tenantId, [{ action: 'purge.run', occurredAt: at(6) }], {
      actor: { type: 'system' },
    });
    const events = await listAuditEvents(db, tenantId);
    expect(events).toEqual([
      {
        id: expect.any(Number) as unknown,
        tenantId,
        occurredAt: at(5),
        actor: { type: 'scim_token', id: 'token-1' },
        action: 'user.created',
        target: { type: 'user', id: 'u-1' },
        requestId: 'req-1',
        changes: {
          userName: 'ann@example.com',
          emails: ['ann@example.com'],
          nested: { active: true },
        },
      },
      {
        id: expect.any(Number) as unknown,
        tenantId,
        occurredAt: at(6),
        actor: { type: 'system', id: null },
        action: 'purge.run',
        target: { type: null, id: null },
        requestId: null,
        changes: null,
      },
    ]);
  });

  it('lists nothing for a tenant without events', async () => {
    const tenantId = await newTenantId('quiet');
    expect(await listAuditEvents(db, tenantId)).toEqual([]);
  });

  it('lists events oldest first, whatever order they were written in', async () => {
    const tenantId = await newTenantId('ordering');
    await record(tenantId, [{ action: 'third', occurredAt: at(30) }]);
    await record(tenantId, [{ action: 'first', occurredAt: at(10) }]);
    await record(tenantId, [{ action: 'second', occurredAt: at(20) }]);
    expect((await listAuditEvents(db, tenantId)).map((e) => e.action)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('lists events of the same instant in the order they were written', async () => {
    const tenantId = await newTenantId('same-instant');
    const actions = ['a', 'b', 'c', 'd', 'e'];
    await record(
      tenantId,
      actions.map((action) => ({ action, occurredAt: at(100) })),
    );
    // Without occurredAt every event of one transaction shares its now().
    await record(
      tenantId,
      ['f', 'g', 'h'].map((action) => ({ action })),
    );
    const events = await listAuditEvents(db, tenantId);
    expect(events.map((e) => e.action)).toEqual([...actions, 'f', 'g', 'h']);
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it('filters by since, counting an event at exactly that instant', async () => {
    const tenantId = await newTenantId('since');
    await record(
      tenantId,
      [10, 20, 30, 40].map((s) => ({ action: `at-${s}`, occurredAt: at(s) })),
    );
    expect((await listAuditEvents(db, tenantId, { since: at(20) })).map((e) => e.action)).toEqual([
      'at-20',
      'at-30',
      'at-40',
    ]);
    expect((await listAuditEvents(db, tenantId, { since: at(21) })).map((e) => e.action)).toEqual([
      'at-30',
      'at-40',
    ]);
    expect(await listAuditEvents(db, tenantId, { since: at(41) })).toEqual([]);
    expect(await listAuditEvents(db, tenantId, { since: at(0) })).toHaveLength(4);
  });

  it('filters by target id', async () => {
    const tenantId = await newTenantId('target');
    await record(tenantId, [
      { action: 'user.created', target: { type: 'user', id: 'u-1' }, occurredAt: at(1) },
      { action: 'user.created', target: { type: 'user', id: 'u-2' }, occurredAt: at(2) },
      { action: 'user.updated', target: { type: 'user', id: 'u-1' }, occurredAt: at(3) },
      { action: 'tenant.settings_changed', occurredAt: at(4) },
    ]);
    const events = await listAuditEvents(db, tenantId, { targetId: 'u-1' });
    expect(events.map((e) => [e.action, e.target.id])).toEqual([
      ['user.created', 'u-1'],
      ['user.updated', 'u-1'],
    ]);
    expect(await listAuditEvents(db, tenantId, { targetId: 'u-404' })).toEqual([]);
  });

  it('returns the newest limit events, listed oldest first', async () => {
    const tenantId = await newTenantId('limit');
    await record(
      tenantId,
      Array.from({ length: 8 }, (_, i) => ({ action: `e${i}`, occurredAt: at(i) })),
    );
    expect((await listAuditEvents(db, tenantId, { limit: 3 })).map((e) => e.action)).toEqual([
      'e5',
      'e6',
      'e7',
    ]);
    expect(await listAuditEvents(db, tenantId, { limit: 100 })).toHaveLength(8);
    expect((await listAuditEvents(db, tenantId, { limit: 1 })).map((e) => e.action)).toEqual([
      'e7',
    ]);
  });

  it('treats an unusable limit as at least one whole event', async () => {
    const tenantId = await newTenantId('bad-limit');
    await record(
      tenantId,
      Array.from({ length: 3 }, (_, i) => ({ action: `e${i}`, occurredAt: at(i) })),
    );
    expect((await listAuditEvents(db, tenantId, { limit: 0 })).map((e) => e.action)).toEqual([
      'e2',
    ]);
    expect((await listAuditEvents(db, tenantId, { limit: -5 })).map((e) => e.action)).toEqual([
      'e2',
    ]);
    expect((await listAuditEvents(db, tenantId, { limit: 2.5 })).map((e) => e.action)).toEqual([
      'e1',
      'e2',
    ]);
    expect(await listAuditEvents(db, tenantId, { limit: Number.NaN })).toHaveLength(3);
  });

  it('combines since, targetId and limit', async () => {
    const tenantId = await newTenantId('combined');
    await record(
      tenantId,
      Array.from({ length: 10 }, (_, i) => ({
        action: `e${i}`,
        target: { type: 'user', id: i % 2 === 0 ? 'even' : 'odd' },
        occurredAt: at(i),
      })),
    );
    const events = await listAuditEvents(db, tenantId, {
      since: at(3),
      targetId: 'even',
      limit: 2,
    });
    expect(events.map((e) => e.action)).toEqual(['e6', 'e8']);
  });

  it('lists 1000 events by default and never more than 10,000', async () => {
    const tenantId = await newTenantId('caps');
    await sql`
      insert into audit_events (tenant_id, actor_type, action, occurred_at)
      select ${tenantId}::uuid, 'system', 'bulk', ${at(0)}::timestamptz + make_interval(secs => n)
      from generate_series(1, 10001) as n`.execute(db);
    expect(await listAuditEvents(db, tenantId)).toHaveLength(1000);
    const capped = await listAuditEvents(db, tenantId, { limit: 50_000 });
    expect(capped).toHaveLength(10_000);
    expect(capped[0]?.occurredAt).toEqual(at(2));
    expect(capped.at(-1)?.occurredAt).toEqual(at(10_001));
  });

  it("never lists another tenant's events, nor events without a tenant", async () => {
    const mine = await newTenantId('mine');
    const theirs = await newTenantId('theirs');
    await record(mine, [
      { action: 'mine.1', target: { type: 'user', id: 'shared-id' }, occurredAt: at(1) },
    ]);
    await record(theirs, [
      { action: 'theirs.1', target: { type: 'user', id: 'shared-id' }, occurredAt: at(2) },
    ]);
    await record(null, [
      { action: 'global.1', target: { type: 'user', id: 'shared-id' }, occurredAt: at(3) },
    ]);
    await record(mine, [{ action: 'mine.2', occurredAt: at(4) }]);

    expect((await listAuditEvents(db, mine)).map((e) => e.action)).toEqual(['mine.1', 'mine.2']);
    expect((await listAuditEvents(db, theirs)).map((e) => e.action)).toEqual(['theirs.1']);
    expect(
      (await listAuditEvents(db, mine, { targetId: 'shared-id' })).map((e) => e.action),
    ).toEqual(['mine.1']);
    expect(
      (await listAuditEvents(db, theirs, { since: at(0), targetId: 'shared-id' })).map(
        (e) => e.action,
      ),
    ).toEqual(['theirs.1']);
  });

  it('writes nothing when the transaction that records the event rolls back', async () => {
    const tenantId = await newTenantId('rolled-back');
    await expect(
      inTransaction(db, async (tx) => {
        await recordAudit(tx, tenantId, scim, { action: 'user.created' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await listAuditEvents(db, tenantId)).toEqual([]);
  });
});
