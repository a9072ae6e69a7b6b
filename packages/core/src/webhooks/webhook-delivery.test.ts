import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { openDatabase } from '../db/create-db.js';
import type { Db } from '../db/transaction.js';
import { eventJson, readEvents, type RosterEvent } from '../events/event.js';
import { outboundPolicyFrom } from '../outbound/outbound-policy.js';
import { createGroupFromScim } from '../provisioning/provision-groups.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { capturingLogger, type CapturedLogLine } from '../testing/log-capture.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  deliverDueWebhooks,
  sendWebhookPing,
  startWebhookWorker,
  WEBHOOK_DISABLE_AFTER_MS,
  WEBHOOK_LEASE_MARGIN_MS,
  type WebhookWorkerOptions,
} from './webhook-delivery.js';
import {
  createWebhook,
  enableWebhook,
  getWebhook,
  listWebhookAttempts,
  pruneWebhookAttempts,
  removeWebhook,
  replayWebhook,
  rotateWebhookSecret,
  WEBHOOK_ATTEMPT_RETENTION_MS,
} from './webhook.repository.js';
import type { WebhookInput } from './webhook.js';

type Clock = ReturnType<typeof fixedClock>;

let database: TestDatabase;
let db: Db;
let server: Server;
let base: string;
let tenantCount = 0;

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
/** What the receiver answers, by path: a status, or a status per request in turn. */
const answers = new Map<string, number[]>();
/** Requests to these paths wait for the promise before they are answered. */
const holds = new Map<string, Promise<void>>();
const received: Received[] = [];
const logLines: CapturedLogLine[] = [];

const operator: ChangeContext = { actor: { type: 'operator', id: 'ops' } };
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const allowLoopback = outboundPolicyFrom('127.0.0.1');

const logger = capturingLogger(logLines);

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body });
      const queue = answers.get(path) ?? [];
      const status = (queue.length > 1 ? queue.shift() : queue[0]) ?? 200;
      void (holds.get(path) ?? Promise.resolve()).then(() => {
        res.statusCode = status;
        res.end(status < 300 ? 'thanks' : `receiver says ${status}`);
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
  // Each test has its own tenant; endpoints of earlier tests must not be served.
  await db.deleteFrom('webhook_endpoints').execute();
  received.length = 0;
  logLines.length = 0;
  answers.clear();
  holds.clear();
});

async function newTenant() {
  tenantCount++;
  return createTenant(db, `wh-${tenantCount}`, operator);
}

function options(clock: Clock, more: Partial<WebhookWorkerOptions> = {}): WebhookWorkerOptions {
  return { policy: allowLoopback, logger, clock, timeoutMs: 5_000, random: () => 1, ...more };
}

async function addWebhook(tenantId: string, input: WebhookInput, clock: Clock) {
  return createWebhook(db, tenantId, input, operator, { clock });
}

async function addUsers(tenantId: string, clock: Clock, names: string[]) {
  for (const name of names)
    await createUserFromScim(db, tenantId, { userName: `${name}@example.com` }, scim, clock);
}

/** Rounds until nothing is due at the clock's now (a bound keeps a bug from looping forever). */
async function deliverAll(clock: Clock, more: Partial<WebhookWorkerOptions> = {}) {
  const total = { sent: 0, failed: 0 };
  for (let round = 0; round < 50; round++) {
    const { sent, failed } = await deliverDueWebhooks(db, options(clock, more));
    total.sent += sent;
    total.failed += failed;
    if (sent + failed === 0) return total;
  }
  throw new Error('still delivering after 50 rounds');
}

const idsAt = (path: string) =>
  received
    .filter((request) => request.path === path)
    .map((request) => request.headers['webhook-id']);

async function allEvents(tenantId: string): Promise<RosterEvent[]> {
  return (await readEvents(db, tenantId, { afterSeq: 0, limit: 1000 })).events;
}

describe('webhook delivery', () => {
  it('delivers the events of real use cases in order, signed, each attempt logged', async () => {
    const clock = fixedClock(new Date());
    const tenant = await newTenant();
    await addUsers(tenant.id, clock, ['before']);
    const { webhook, secret } = await addWebhook(tenant.id, { url: `${base}/in-order` }, clock);
    await addUsers(tenant.id, clock, ['ann', 'bob', 'cid']);
    await createGroupFromScim(db, tenant.id, { displayName: 'Staff' }, [], scim, clock);

    expect(await deliverAll(clock)).toEqual({ sent: 4, failed: 0 });
    const events = (await allEvents(tenant.id)).filter((event) => event.seq > webhook.deliveredSeq);
    expect(events.map((event) => event.type)).toEqual([
      'user.created',
      'user.created',
      'user.created',
      'group.created',
    ]);
    expect(idsAt('/in-order')).toEqual(events.map((event) => event.id));
    const verifier = new StandardWebhook(secret);
    received.forEach((request, index) => {
      expect(request.headers['content-type']).toBe('application/json');
      const event = events[index] as RosterEvent;
      expect(JSON.parse(request.body)).toEqual({
        ...JSON.parse(JSON.stringify(eventJson(event))),
        tenant: tenant.slug,
      });
      expect(verifier.verify(request.body, request.headers as Record<string, string>)).toEqual(
        JSON.parse(request.body),
      );
    });
    const attempts = await listWebhookAttempts(db, tenant.id, webhook.id);
    expect(attempts.map((attempt) => attempt.eventId)).toEqual(
      events.map((event) => event.id).reverse(),
    );
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({
        attempt: 1,
        status: 200,
        error: null,
        responseExcerpt: 'thanks',
      });
      expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(await getWebhook(db, tenant.id, webhook.id)).toMatchObject({
      deliveredSeq: (events.at(-1) as RosterEvent).seq,
      failingSince: null,
      lastDeliveredAt: clock.now(),
    });
    // Nothing more is due: the next round claims nothing.
    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 0 });
  });

  it('keeps the order under concurrent SCIM writes while the worker delivers', async () => {
    const clock = fixedClock(new Date());
    const tenant = await newTenant();
    await addWebhook(tenant.id, { url: `${base}/concurrent` }, clock);
    const worker = startWebhookWorker(db, { ...options(clock), pollIntervalMs: 5 });
    const writers = 24;
    try {
      await Promise.all(
        Array.from({ length: writers }, async (_, i) => {
          await addUsers(tenant.id, clock, [`writer-${i}`]);
          worker.wake();
        }),
      );
      while (idsAt('/concurrent').length < writers)
        await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await worker.stop();
    }
    expect(idsAt('/concurrent')).toEqual((await allEvents(tenant.id)).map((event) => event.id));
  });

  it('sends only the event types an endpoint asked for, and moves past the others', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const groups = await addWebhook(
      tenant.id,
      { url: `${base}/groups`, events: ['group.*'] },
      clock,
    );
    const users = await addWebhook(
      tenant.id,
      { url: `${base}/users`, events: ['user.created'] },
      clock,
    );
    await addUsers(tenant.id, clock, ['ann']);
    await createGroupFromScim(db, tenant.id, { displayName: 'Staff' }, [], scim, clock);
    await addUsers(tenant.id, clock, ['bob']);

    expect(await deliverAll(clock)).toEqual({ sent: 3, failed: 0 });
    const events = await allEvents(tenant.id);
    const byType = (type: string) =>
      events.filter((event) => event.type === type).map((event) => event.id);
    expect(idsAt('/groups')).toEqual(byType('group.created'));
    expect(idsAt('/users')).toEqual(byType('user.created'));
    const latest = (events.at(-1) as RosterEvent).seq;
    expect((await getWebhook(db, tenant.id, groups.webhook.id)).deliveredSeq).toBe(latest);
    expect((await getWebhook(db, tenant.id, users.webhook.id)).deliveredSeq).toBe(latest);
  });

  it('retries a 500 with the same webhook-id and keeps the order', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/flaky` }, clock);
    await addUsers(tenant.id, clock, ['ann', 'bob']);
    answers.set('/flaky', [500, 200]);

    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 1 });
    const failing = await getWebhook(db, tenant.id, webhook.id);
    expect(failing).toMatchObject({ state: 'enabled', failingSince: clock.now() });
    expect(failing.nextAttemptAt.getTime()).toBeGreaterThan(clock.now().getTime());
    // Not due yet: nothing is sent, the second event does not overtake the first.
    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 0 });
    clock.set(failing.nextAttemptAt);
    expect(await deliverAll(clock)).toEqual({ sent: 2, failed: 0 });

    const events = await allEvents(tenant.id);
    const [first, second] = events.slice(-2).map((event) => event.id);
    expect(idsAt('/flaky')).toEqual([first, first, second]);
    const attempts = (await listWebhookAttempts(db, tenant.id, webhook.id)).reverse();
    expect(attempts).toMatchObject([
      {
        eventId: first,
        attempt: 1,
        status: 500,
        error: 'HTTP 500',
        responseExcerpt: 'receiver says 500',
      },
      { eventId: first, attempt: 2, status: 200, error: null },
      { eventId: second, attempt: 1, status: 200 },
    ]);
    expect(await getWebhook(db, tenant.id, webhook.id)).toMatchObject({ failingSince: null });
  });

  /** Runs rounds at each next attempt time until `until`; returns the attempts made. */
  async function retryUntil(clock: Clock, tenantId: string, id: string, until: Date) {
    let failures = 0;
    for (let round = 0; round < 200; round++) {
      const { failed } = await deliverDueWebhooks(db, options(clock));
      failures += failed;
      const webhook = await getWebhook(db, tenantId, id);
      if (webhook.state === 'disabled' || webhook.nextAttemptAt > until) return failures;
      clock.set(webhook.nextAttemptAt);
    }
    throw new Error('still retrying after 200 rounds');
  }

  it('delivers everything in order after the receiver was down for most of a day', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/down` }, clock);
    answers.set('/down', [503]);
    await addUsers(tenant.id, clock, ['ann']);
    const start = clock.now().getTime();
    for (const [hours, name] of [
      [2, 'bob'],
      [12, 'cid'],
    ] as const) {
      await retryUntil(clock, tenant.id, webhook.id, new Date(start + hours * 3600_000));
      await addUsers(tenant.id, clock, [name]);
    }
    const failures = await retryUntil(
      clock,
      tenant.id,
      webhook.id,
      new Date(start + 23 * 3600_000),
    );
    expect(failures).toBeGreaterThan(10);
    expect(await getWebhook(db, tenant.id, webhook.id)).toMatchObject({
      state: 'enabled',
      failingSince: new Date(start),
    });
    answers.set('/down', [200]);
    clock.set((await getWebhook(db, tenant.id, webhook.id)).nextAttemptAt);
    expect(await deliverAll(clock)).toEqual({ sent: 3, failed: 0 });
    const ids = (await allEvents(tenant.id)).map((event) => event.id);
    const delivered = received.filter((request) => request.path === '/down');
    // Every attempt before was of the first event; then the three, in order.
    expect(new Set(delivered.slice(0, -3).map((r) => r.headers['webhook-id']))).toEqual(
      new Set([ids[0]]),
    );
    expect(delivered.slice(-3).map((r) => r.headers['webhook-id'])).toEqual(ids);
  });

  it('disables an endpoint failing for a day, audited and logged, and catches up when enabled', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/gone-quiet` }, clock);
    answers.set('/gone-quiet', [502]);
    await addUsers(tenant.id, clock, ['ann', 'bob']);
    const start = clock.now().getTime();
    const failures = await retryUntil(
      clock,
      tenant.id,
      webhook.id,
      new Date(start + 2 * WEBHOOK_DISABLE_AFTER_MS),
    );
    const disabled = await getWebhook(db, tenant.id, webhook.id);
    expect(disabled).toMatchObject({ state: 'disabled', disabledReason: 'failing' });
    // The last attempt happened exactly when the day of failures was over.
    expect(clock.now().getTime()).toBe(start + WEBHOOK_DISABLE_AFTER_MS);
    const attempts = await listWebhookAttempts(db, tenant.id, webhook.id, { limit: 1000 });
    expect(attempts).toHaveLength(failures);
    expect(attempts[0]).toMatchObject({ attempt: failures, status: 502 });
    const audit = await listAuditEvents(db, tenant.id, { targetId: webhook.id });
    expect(audit.find((event) => event.action === 'webhook.disabled')).toMatchObject({
      actor: { type: 'system' },
      changes: { reason: 'failing', attempts: failures, lastStatus: 502 },
    });
    expect(logLines.filter((line) => line.msg === 'webhook.disabled')).toMatchObject([
      { level: 40, webhookId: webhook.id, reason: 'failing' },
    ]);
    // Disabled: nothing is tried any more, while events keep coming.
    clock.advance(3600_000);
    await addUsers(tenant.id, clock, ['cid']);
    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 0 });

    answers.set('/gone-quiet', [200]);
    received.length = 0;
    await enableWebhook(db, tenant.id, webhook.id, operator, { clock });
    expect(await deliverAll(clock)).toEqual({ sent: 3, failed: 0 });
    expect(idsAt('/gone-quiet')).toEqual((await allEvents(tenant.id)).map((event) => event.id));
  });

  it('disables an endpoint at once when the receiver answers 410 Gone', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/really-gone` }, clock);
    answers.set('/really-gone', [410]);
    await addUsers(tenant.id, clock, ['ann']);
    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 1 });
    expect(await getWebhook(db, tenant.id, webhook.id)).toMatchObject({
      state: 'disabled',
      disabledReason: 'gone',
    });
  });

  it('shares the work between two workers without sending an event twice', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const paths = ['/shared-a', '/shared-b', '/shared-c'];
    for (const path of paths) await addWebhook(tenant.id, { url: `${base}${path}` }, clock);
    await addUsers(
      tenant.id,
      clock,
      Array.from({ length: 12 }, (_, i) => `u${i}`),
    );
    // A second pool on PostgreSQL: the two workers are two sessions (PGlite has one).
    const other =
      database.target.kind === 'postgres' ? await openDatabase(database.target) : undefined;
    try {
      for (let round = 0; round < 30; round++) {
        const results = await Promise.all([
          deliverDueWebhooks(db, options(clock, { eventsPerClaim: 3 })),
          deliverDueWebhooks(other?.db ?? db, options(clock, { eventsPerClaim: 3 })),
        ]);
        if (results.every(({ sent, failed }) => sent + failed === 0)) break;
      }
    } finally {
      await other?.close();
    }
    const ids = (await allEvents(tenant.id)).map((event) => event.id);
    for (const path of paths) expect(idsAt(path)).toEqual(ids);
  });

  it('loses the cursor to another worker when its lease runs out: only the send in flight is repeated', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/slow` }, clock);
    await addUsers(tenant.id, clock, ['ann', 'bob', 'cid']);
    let release = () => {};
    holds.set('/slow', new Promise<void>((resolve) => (release = resolve)));
    const stalled = deliverDueWebhooks(db, options(clock, { timeoutMs: 60_000 }));
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // The first worker stalls past its lease: a second one (later in time) takes over.
    holds.delete('/slow');
    const later = fixedClock(
      new Date(clock.now().getTime() + 60_000 + WEBHOOK_LEASE_MARGIN_MS + 1),
    );
    expect(await deliverDueWebhooks(db, options(later))).toEqual({ sent: 3, failed: 0 });
    release();
    // The stalled worker's send was answered, but it moves no cursor and sends nothing more.
    expect(await stalled).toEqual({ sent: 1, failed: 0 });
    const ids = (await allEvents(tenant.id)).map((event) => event.id);
    expect(idsAt('/slow')).toEqual([ids[0], ids[0], ids[1], ids[2]]);
    expect((await getWebhook(db, tenant.id, webhook.id)).deliveredSeq).toBe(
      (await allEvents(tenant.id)).at(-1)?.seq,
    );
  });

  it('lets a send finish quietly when its webhook is removed meanwhile', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/removed` }, clock);
    await addUsers(tenant.id, clock, ['ann', 'bob']);
    let release = () => {};
    holds.set('/removed', new Promise<void>((resolve) => (release = resolve)));
    const sending = deliverDueWebhooks(db, options(clock));
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await removeWebhook(db, tenant.id, webhook.id, operator);
    release();
    expect(await sending).toEqual({ sent: 1, failed: 0 });
    expect(received).toHaveLength(1);
    expect(logLines.filter((line) => line.level >= 50)).toEqual([]);
    expect(
      await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('endpoint_id', '=', webhook.id)
        .execute(),
    ).toEqual([]);
  });

  it('replays from an event id and from a time, in order', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/replay` }, clock);
    for (const name of ['ann', 'bob', 'cid']) {
      await addUsers(tenant.id, clock, [name]);
      // Events carry the database's time: apart by a few real milliseconds.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await deliverAll(clock);
    const events = await allEvents(tenant.id);
    const ids = events.map((event) => event.id);
    await replayWebhook(db, tenant.id, webhook.id, { eventId: ids[1] as string }, operator, {
      clock,
    });
    expect(await deliverAll(clock)).toEqual({ sent: 2, failed: 0 });
    await replayWebhook(
      db,
      tenant.id,
      webhook.id,
      { time: (events[2] as RosterEvent).occurredAt },
      operator,
      { clock },
    );
    expect(await deliverAll(clock)).toEqual({ sent: 1, failed: 0 });
    expect(idsAt('/replay')).toEqual([...ids, ids[1], ids[2], ids[2]]);
  });

  it('signs with the old and the new secret during a rotation, and only the new one after', async () => {
    const clock = fixedClock(new Date());
    const tenant = await newTenant();
    const { webhook, secret: oldSecret } = await addWebhook(
      tenant.id,
      { url: `${base}/rotate` },
      clock,
    );
    await addUsers(tenant.id, clock, ['ann']);
    await deliverAll(clock);
    const { secret: newSecret } = await rotateWebhookSecret(db, tenant.id, webhook.id, operator, {
      clock,
      overlapMs: 60_000,
    });
    await addUsers(tenant.id, clock, ['bob']);
    await deliverAll(clock);
    clock.advance(60_000);
    await addUsers(tenant.id, clock, ['cid']);
    await deliverAll(clock);

    const [before, during, after] = received as [Received, Received, Received];
    const verify = (secret: string, request: Received) =>
      new StandardWebhook(secret).verify(request.body, request.headers as Record<string, string>);
    expect(verify(oldSecret, before)).toMatchObject({ type: 'user.created' });
    expect(() => verify(newSecret, before)).toThrow();
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(oldSecret, during)).toMatchObject({ type: 'user.created' });
    expect(verify(newSecret, during)).toMatchObject({ type: 'user.created' });
    expect(verify(newSecret, after)).toMatchObject({ type: 'user.created' });
    expect(() => verify(oldSecret, after)).toThrow();
    const stranger = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    for (const request of [before, during, after])
      expect(() => verify(stranger, request)).toThrow();
  });

  it('refuses internal destinations at delivery, recording the attempt, sending nothing', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const port = (server.address() as AddressInfo).port;
    const urls = [`http://localhost:${port}/ssrf`, 'http://169.254.169.254/latest/meta-data/'];
    const hooks = [];
    for (const url of urls) hooks.push((await addWebhook(tenant.id, { url }, clock)).webhook);
    await addUsers(tenant.id, clock, ['ann']);
    const strict = outboundPolicyFrom(undefined);
    expect(await deliverDueWebhooks(db, options(clock, { policy: strict }))).toEqual({
      sent: 0,
      failed: 2,
    });
    expect(received).toEqual([]);
    for (const hook of hooks) {
      const [attempt] = await listWebhookAttempts(db, tenant.id, hook.id);
      expect(attempt).toMatchObject({ status: null, latencyMs: null, responseExcerpt: null });
      expect(attempt?.error).toMatch(/^destination_refused: destination refused/);
    }
  });

  it('skips an endpoint whose format this instance cannot render, and renders it when it can', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(
      tenant.id,
      { url: `${base}/set`, format: 'scim-events' },
      clock,
    );
    await addUsers(tenant.id, clock, ['ann']);
    expect(await deliverDueWebhooks(db, options(clock))).toEqual({ sent: 0, failed: 0 });
    expect(logLines.filter((line) => line.msg === 'webhook.format_unavailable')).toHaveLength(1);
    expect(await getWebhook(db, tenant.id, webhook.id)).toMatchObject({
      state: 'enabled',
      failingSince: null,
    });
    expect(await listWebhookAttempts(db, tenant.id, webhook.id)).toEqual([]);
    clock.advance(60_000);
    const formats = {
      'scim-events': (event: RosterEvent) =>
        Promise.resolve({ contentType: 'application/secevent+jwt', body: `set-of-${event.id}` }),
    };
    expect(await deliverAll(clock, { formats })).toEqual({ sent: 1, failed: 0 });
    const [event] = await allEvents(tenant.id);
    expect(received).toMatchObject([
      {
        path: '/set',
        body: `set-of-${event?.id}`,
        headers: { 'content-type': 'application/secevent+jwt', 'webhook-id': event?.id },
      },
    ]);
  });

  it('pings at once, recording the attempt, without moving the cursor', async () => {
    const clock = fixedClock(new Date());
    const tenant = await newTenant();
    const { webhook, secret } = await addWebhook(tenant.id, { url: `${base}/ping` }, clock);
    const attempt = await sendWebhookPing(db, tenant.id, webhook.id, {
      policy: allowLoopback,
      clock,
    });
    expect(attempt).toMatchObject({ eventType: 'ping', attempt: 1, status: 200, error: null });
    const [request] = received as [Received];
    const body = new StandardWebhook(secret).verify(
      request.body,
      request.headers as Record<string, string>,
    );
    expect(body).toMatchObject({
      id: attempt.eventId,
      type: 'ping',
      tenant: tenant.slug,
      data: { webhook: { id: webhook.id } },
    });
    expect(await listWebhookAttempts(db, tenant.id, webhook.id)).toEqual([attempt]);
    expect(await getWebhook(db, tenant.id, webhook.id)).toEqual(webhook);
    await expect(
      sendWebhookPing(db, tenant.id, '00000000-0000-4000-8000-000000000000', {
        policy: allowLoopback,
      }),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('pages the attempt log, newest first, and prunes it after its retention', async () => {
    const clock = fixedClock('2020-01-01T00:00:00Z');
    const tenant = await newTenant();
    const { webhook } = await addWebhook(tenant.id, { url: `${base}/log` }, clock);
    const pings = [];
    for (let i = 0; i < 3; i++) {
      pings.push(
        await sendWebhookPing(db, tenant.id, webhook.id, { policy: allowLoopback, clock }),
      );
      clock.advance(1000);
    }
    const page = await listWebhookAttempts(db, tenant.id, webhook.id, { limit: 2 });
    expect(page).toEqual([pings[2], pings[1]]);
    expect(
      await listWebhookAttempts(db, tenant.id, webhook.id, { beforeId: page[1]?.id as number }),
    ).toEqual([pings[0]]);
    const later = fixedClock(new Date(clock.now().getTime() + WEBHOOK_ATTEMPT_RETENTION_MS - 1500));
    expect(await pruneWebhookAttempts(db, later)).toEqual({ deleted: 2 });
    expect(await listWebhookAttempts(db, tenant.id, webhook.id)).toEqual([pings[2]]);
  });

  it('runs as a worker that wakes on demand and stops after the round in flight', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    const tenant = await newTenant();
    await addWebhook(tenant.id, { url: `${base}/worker` }, clock);
    const worker = startWebhookWorker(db, { ...options(clock), pollIntervalMs: 60_000 });
    try {
      await addUsers(tenant.id, clock, ['ann', 'bob']);
      worker.wake();
      while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      await worker.stop();
    }
    expect(idsAt('/worker')).toEqual((await allEvents(tenant.id)).map((event) => event.id));
  });
});
