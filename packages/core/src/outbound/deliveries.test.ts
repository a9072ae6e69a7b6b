import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import { fixedClock } from '../clock.js';
import { openDatabase } from '../db/create-db.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { capturingLogger, type CapturedLogLine } from '../testing/log-capture.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  DELIVERY_FIRST_RETRY_MS,
  DELIVERY_GIVE_UP_AFTER_MS,
  DELIVERY_LEASE_MARGIN_MS,
  DELIVERY_MAX_RETRY_DELAY_MS,
  deliverDue,
  enqueueDelivery,
  listDeliveries,
  listDeliveryAttempts,
  pruneDeliveries,
  startDeliveryWorker,
  type DeliveryOptions,
  type DeliveryRenderer,
} from './deliveries.js';
import { outboundPolicyFrom } from './outbound-policy.js';

let database: TestDatabase;
let db: Db;
let tenantId: string;
let otherTenantId: string;
let server: Server;
let base: string;
/** What the receiver answers, by path. */
const answers = new Map<string, { status: number; delayMs?: number; hold?: Promise<void> }>();
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
const logLines: CapturedLogLine[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  tenantId = (await createTenant(db, 'acme', { actor: { type: 'system' } })).id;
  otherTenantId = (await createTenant(db, 'globex', { actor: { type: 'system' } })).id;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body });
      const answer = answers.get(path.replace(/\?.*$/, '')) ?? { status: 200 };
      void Promise.all([
        answer.hold,
        new Promise((resolve) => setTimeout(resolve, answer.delayMs ?? 0)),
      ]).then(() => {
        res.statusCode = answer.status;
        res.end(answer.status < 300 ? 'ok' : 'receiver says no\u0000');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await database.close();
});
beforeEach(async () => {
  await db.deleteFrom('outbound_deliveries').execute();
  received.length = 0;
  logLines.length = 0;
  answers.clear();
});

const logger = capturingLogger(logLines);

const renderLogout: DeliveryRenderer = (delivery) =>
  Promise.resolve({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `logout_token=${JSON.stringify(delivery.payload)}&attempt=${delivery.attempts}`,
  });

function options(
  clock: ReturnType<typeof fixedClock>,
  more: Partial<DeliveryOptions> = {},
): DeliveryOptions {
  return {
    renderers: { backchannel_logout: renderLogout },
    policy: outboundPolicyFrom('127.0.0.1'),
    clock,
    logger,
    timeoutMs: 2_000,
    random: () => 1,
    ...more,
  };
}

async function enqueue(path: string, clock: ReturnType<typeof fixedClock>, payload: unknown = {}) {
  await inTransaction(db, (tx) =>
    enqueueDelivery(
      tx,
      { tenantId, kind: 'backchannel_logout', targetUrl: `${base}${path}`, payload },
      clock,
    ),
  );
}

const only = async () => {
  const [delivery] = await listDeliveries(db, tenantId, { limit: 10 });
  if (!delivery) throw new Error('no delivery');
  return delivery;
};

describe('deliveries', () => {
  it('delivers on a 2xx, recording the attempt, and is committed only with its transaction', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    await expect(
      inTransaction(db, async (tx) => {
        await enqueueDelivery(tx, {
          tenantId,
          kind: 'backchannel_logout',
          targetUrl: `${base}/rolled-back`,
          payload: {},
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await enqueue('/ok?token=secret', clock, { sid: 's-1' });

    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(received.map((r) => r.path)).toEqual(['/ok?token=secret']);
    expect(received[0]?.body).toBe('logout_token={"sid":"s-1"}&attempt=1');
    expect(received[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const delivery = await only();
    expect(delivery).toMatchObject({
      state: 'delivered',
      attempts: 1,
      lastStatus: 200,
      lastError: null,
      deliveredAt: clock.now(),
    });
    const attempts = await listDeliveryAttempts(db, tenantId, delivery.id);
    expect(attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 200, error: null, responseExcerpt: 'ok' }),
    ]);
    expect(await listDeliveryAttempts(db, otherTenantId, delivery.id)).toEqual([]);
    expect(await listDeliveries(db, otherTenantId, { limit: 10 })).toEqual([]);
    // Nothing is due any more.
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(logLines.some((line) => JSON.stringify(line).includes('secret'))).toBe(false);
  });

  it('retries a failure with a growing delay, then delivers', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    answers.set('/flaky', { status: 503 });
    await enqueue('/flaky', clock);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 1, failed: 0 });
      const delivery = await only();
      expect(delivery).toMatchObject({ state: 'pending', attempts: attempt, lastStatus: 503 });
      expect(delivery.lastError).toBe('HTTP 503');
      const delay = delivery.nextAttemptAt.getTime() - clock.now().getTime();
      delays.push(delay);
      // Not due a moment before its time.
      clock.advance(delay - 1);
      expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
      clock.advance(1);
    }
    expect(delays).toEqual([1, 2, 4, 8].map((factor) => factor * DELIVERY_FIRST_RETRY_MS));
    answers.set('/flaky', { status: 204 });
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 1, retried: 0, failed: 0 });
    const delivery = await only();
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 5, lastStatus: 204 });
    const attempts = await listDeliveryAttempts(db, tenantId, delivery.id);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 503, 503, 204]);
    expect(attempts[0]?.responseExcerpt).toBe('receiver says no');
  });

  it('draws the delay with full jitter below the ceiling, at least a second', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    answers.set('/down', { status: 500 });
    await enqueue('/down', clock);
    await deliverDue(db, options(clock, { random: () => 0.5 }));
    expect((await only()).nextAttemptAt.getTime() - clock.now().getTime()).toBe(
      DELIVERY_FIRST_RETRY_MS / 2,
    );
    clock.advance(DELIVERY_FIRST_RETRY_MS);
    await deliverDue(db, options(clock, { random: () => 0 }));
    expect((await only()).nextAttemptAt.getTime() - clock.now().getTime()).toBe(1_000);
  });

  it('counts a refused destination and a redirect as failed attempts', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    answers.set('/moved', { status: 302 });
    await enqueue('/moved', clock);
    expect(await deliverDue(db, options(clock, { policy: outboundPolicyFrom(undefined) }))).toEqual(
      { delivered: 0, retried: 1, failed: 0 },
    );
    expect((await only()).lastError).toMatch(/^destination_refused: .*127\.0\.0\.1 is a loopback/);
    expect(received).toEqual([]);
    clock.advance(DELIVERY_FIRST_RETRY_MS);
    await deliverDue(db, options(clock));
    expect(await only()).toMatchObject({ lastStatus: 302, lastError: 'HTTP 302' });
  });

  it('gives up after 24 hours: state failed, an audit event and a warn line', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const created = clock.now().getTime();
    answers.set('/gone', { status: 410 });
    await enqueue('/gone', clock);
    let delivery = await only();
    let largestDelay = 0;
    for (let round = 0; round < 100 && delivery.state === 'pending'; round++) {
      clock.set(delivery.nextAttemptAt);
      await deliverDue(db, options(clock));
      delivery = await only();
      if (delivery.state === 'pending')
        largestDelay = Math.max(
          largestDelay,
          delivery.nextAttemptAt.getTime() - clock.now().getTime(),
        );
    }
    expect(largestDelay).toBe(DELIVERY_MAX_RETRY_DELAY_MS);
    expect(delivery.state).toBe('failed');
    // The last attempt is the one at the 24 hour mark, never later.
    expect(delivery.lastAttemptAt?.getTime()).toBe(created + DELIVERY_GIVE_UP_AFTER_MS);
    const audit = await listAuditEvents(db, tenantId);
    expect(audit.filter((event) => event.action === 'delivery.failed')).toEqual([
      expect.objectContaining({
        actor: { type: 'system', id: null },
        target: { type: 'delivery', id: String(delivery.id) },
        changes: expect.objectContaining({
          kind: 'backchannel_logout',
          target: base,
          attempts: delivery.attempts,
          lastStatus: 410,
        }),
      }),
    ]);
    expect(logLines.filter((line) => line.msg === 'delivery.failed')).toEqual([
      expect.objectContaining({ level: 40, deliveryId: delivery.id, tenantId }),
    ]);
    // Failed deliveries are not claimed again.
    clock.advance(DELIVERY_MAX_RETRY_DELAY_MS);
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
  });

  it('retries once the lease of a claimer that died runs out (the in-flight send may repeat)', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    let release = () => {};
    const hold = new Promise<void>((resolve) => (release = resolve));
    answers.set('/stuck', { status: 200, hold });
    await enqueue('/stuck', clock);
    // The first claimer sends and hangs (as a process killed mid-send would never answer).
    const first = deliverDue(db, options(clock, { timeoutMs: 60_000 }));
    await expect.poll(() => received.length).toBe(1);
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(60_000 + DELIVERY_LEASE_MARGIN_MS - 1);
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(1);
    answers.set('/stuck', { status: 200 });
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(await only()).toMatchObject({ state: 'delivered', attempts: 2 });
    release();
    // The late answer of the first claim changes nothing.
    expect(await first).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(await only()).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(received).toHaveLength(2);
  });

  it('never sends one delivery twice when two instances work at once (SKIP LOCKED)', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    answers.set('/many', { status: 200, delayMs: 20 });
    for (let n = 0; n < 30; n++) await enqueue('/many', clock, { n });
    // On PostgreSQL the second instance has its own pool; PGlite has one connection.
    const second =
      database.target.kind === 'postgres' ? await openDatabase(database.target) : undefined;
    try {
      const instances = [db, second?.db ?? db];
      const work = (instanceDb: Db) => async () => {
        let delivered = 0;
        for (;;) {
          const summary = await deliverDue(instanceDb, options(clock, { batchSize: 4 }));
          if (summary.delivered === 0) return delivered;
          delivered += summary.delivered;
        }
      };
      const counts = await Promise.all(instances.map((instance) => work(instance)()));
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(30);
    } finally {
      await second?.close();
    }
    const sent = received.map(
      (r) => JSON.parse(new URLSearchParams(r.body).get('logout_token') ?? '') as { n: number },
    );
    expect(sent.map((payload) => payload.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, n) => n),
    );
    const attempts = await sql<{ n: number }>`
      select count(*)::int as n from outbound_delivery_attempts`.execute(db);
    expect(attempts.rows[0]?.n).toBe(30);
  });

  it('leaves kinds it has no renderer for, and refuses bad deliveries', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    await inTransaction(db, (tx) =>
      enqueueDelivery(
        tx,
        { tenantId, kind: 'webhook', targetUrl: `${base}/w`, payload: {} },
        clock,
      ),
    );
    expect(await deliverDue(db, options(clock))).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(await deliverDue(db, options(clock, { renderers: {} }))).toEqual({
      delivered: 0,
      retried: 0,
      failed: 0,
    });
    expect(await only()).toMatchObject({ kind: 'webhook', state: 'pending', attempts: 0 });
    const bad = (delivery: { kind?: string; targetUrl?: string; payload?: unknown }) =>
      enqueueDelivery(db, {
        tenantId,
        kind: 'webhook',
        targetUrl: `${base}/w`,
        payload: {},
        ...delivery,
      });
    await expect(bad({ targetUrl: 'ftp://x/y' })).rejects.toThrow(/http\(s\) URL/);
    await expect(bad({ kind: '' })).rejects.toThrow(/kind/);
    await expect(bad({ payload: undefined })).rejects.toThrow(/JSON/);
    await expect(bad({ payload: 'x'.repeat(70_000) })).rejects.toThrow(/at most/);
  });

  it('counts a renderer that throws as a failed attempt', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    await enqueue('/ok', clock);
    const broken: DeliveryRenderer = () => Promise.reject(new Error('no signing key'));
    expect(
      await deliverDue(db, options(clock, { renderers: { backchannel_logout: broken } })),
    ).toEqual({ delivered: 0, retried: 1, failed: 0 });
    expect((await only()).lastError).toBe('could not render the request: no signing key');
    expect(received).toEqual([]);
  });

  it('a worker sends at once when woken and stops after its sends in flight', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const worker = startDeliveryWorker(db, { ...options(clock), intervalMs: 3_600_000 });
    try {
      await enqueue('/ok', clock);
      worker.wake();
      await expect.poll(async () => (await only()).state).toBe('delivered');
      answers.set('/slow', { status: 200, delayMs: 200 });
      await enqueue('/slow', clock);
      worker.wake();
      await expect.poll(() => received.some((r) => r.path === '/slow')).toBe(true);
    } finally {
      await worker.stop();
    }
    const slow = (await listDeliveries(db, tenantId, { limit: 10 })).find((d) =>
      d.targetUrl.endsWith('/slow'),
    );
    expect(slow?.state).toBe('delivered');
  });

  it('prunes finished deliveries after a week, with their attempts, never pending ones', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    answers.set('/down', { status: 500 });
    await enqueue('/ok', clock);
    await enqueue('/down', clock);
    await deliverDue(db, options(clock));
    clock.advance(8 * 24 * 60 * 60 * 1000);
    expect(await pruneDeliveries(db, clock)).toEqual({ deleted: 1 });
    expect((await listDeliveries(db, tenantId, { limit: 10 })).map((d) => d.state)).toEqual([
      'pending',
    ]);
    const attempts = await sql<{ n: number }>`
      select count(*)::int as n from outbound_delivery_attempts`.execute(db);
    expect(attempts.rows[0]?.n).toBe(1);
  });
});
