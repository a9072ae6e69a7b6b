// PostgreSQL only (a *.pg.* file: several processes on one database). The process delivering
// webhooks (`npm start`) killed with SIGKILL while a delivery is in flight: the receiver holds
// that request unanswered, so the kill lands mid-delivery. A new process then takes over once the
// dead one's lease is past. Nothing is lost, order is kept, and the only events delivered twice
// are exactly those the dead process had sent without recording them delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScimToken,
  createTenant,
  createWebhook,
  getWebhook,
  parseEventId,
  systemClock,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { allEventsAfter } from '../../helpers/events-stack.js';
import { ScimClient } from '../../helpers/journey-stack.js';
import { concurrentScimWrites } from '../../helpers/scim-workload.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import {
  repeatsOf,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../helpers/webhook-receiver.js';

const SLUG = 'webhook-sigkill';
/** Deliveries answered before the receiver starts holding: the kill lands mid-stream. */
const ANSWERED_BEFORE_HOLD = 10;
/** The new process waits out the dead one's lease before it takes the endpoint over. */
const TAKEOVER_TIMEOUT_MS = 150_000;
const operator: ChangeContext = { actor: { type: 'operator', id: 'webhook-sigkill' } };

let database: TestDatabase;
let receiver: WebhookReceiver;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ migrated: true });
  if (database.target.kind !== 'postgres')
    throw new Error('*.pg.*.test.ts files run only with DATABASE_URL (vitest.config.ts)');
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  for (const { process } of servers)
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await Promise.all(servers.map(({ process }) => process.exited));
  await receiver?.close();
  await database?.close();
});

describe('SIGKILL of the delivering process mid-batch', () => {
  it('loses nothing and repeats exactly the deliveries that were in flight', async () => {
    if (database.target.kind !== 'postgres') throw new Error('PostgreSQL only');
    const tenant = await createTenant(database.db, SLUG, operator);
    const { token } = await createScimToken(
      database.db,
      SLUG,
      { expiresAt: null },
      operator,
      systemClock,
    );
    const { webhook, secret } = await createWebhook(
      database.db,
      tenant.id,
      { url: receiver.url('/hook') },
      operator,
    );
    receiver.setSecret('/hook', secret);
    receiver.onDelivery(() => {
      if (receiver.deliveries.length === ANSWERED_BEFORE_HOLD) receiver.hold();
    });

    const first = await startServerProcess(database.target.url);
    servers.push(first);
    await concurrentScimWrites(() => new ScimClient(`${first.scimUrl}/scim/v2/${SLUG}`, token), {
      label: 'kill',
      usersPerWriter: 3,
    });
    const expected = await allEventsAfter(database, tenant.id, webhook.deliveredSeq);
    expect(expected.length).toBeGreaterThan(ANSWERED_BEFORE_HOLD * 2);
    await receiver.waitFor('a delivery held unanswered', () =>
      receiver.deliveries.some((delivery) => !delivery.answered),
    );
    // The held request is still open: the process is waiting for its answer right now.
    expect(receiver.heldConnectionsClosed()).toEqual([false]);
    first.process.child.kill('SIGKILL');
    expect(await first.process.exited).toBe('SIGKILL');

    // What the dead process had recorded, and what it had sent beyond that: in flight.
    const recorded = (await getWebhook(database.db, tenant.id, webhook.id)).deliveredSeq;
    const beforeKill = receiver.idsAt('/hook');
    const inFlight = beforeKill.filter((id) => parseEventId(id).seq > recorded);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.at(-1)).toBe(receiver.deliveries.at(-1)?.event.id);
    expect(beforeKill.length).toBeLessThan(expected.length);

    receiver.release();
    const second = await startServerProcess(database.target.url);
    servers.push(second);
    await receiver.waitFor(
      'every event, after the takeover',
      () => new Set(receiver.idsAt('/hook')).size === expected.length,
      TAKEOVER_TIMEOUT_MS,
    );

    expect(receiver.signatureErrors()).toEqual([]);
    // In order, nothing lost, and repeated: exactly the in-flight ones, once each.
    const repeats = repeatsOf(
      receiver.idsAt('/hook'),
      expected.map((event) => event.id),
    );
    expect(repeats).toEqual(inFlight);
    expect(new Set(receiver.idsAt('/hook'))).toEqual(new Set(expected.map((event) => event.id)));

    second.process.child.kill('SIGTERM');
    expect(await second.process.exited).toBe(0);
  }, 240_000);
});
