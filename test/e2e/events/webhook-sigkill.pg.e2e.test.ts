// PostgreSQL only (a *.pg.* file: several processes on one database). The process delivering
// webhooks (`npm start`) stopped while a delivery is in flight: the receiver holds that request
// unanswered, so the signal lands mid-delivery.
// - SIGKILL: a new process takes over once the dead one's lease is past. Nothing is lost, order
//   is kept, and the only events delivered twice are exactly those the dead process had sent
//   without recording them delivered.
// - SIGTERM: the process finishes the send in hand (records it) before it exits 0, so the next
//   process sends nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getWebhook, parseEventId } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { addWebhook, allEventsAfter, tenantWithScimToken } from '../../helpers/events-stack.js';
import { ScimClient } from '../../helpers/journey-stack.js';
import { concurrentScimWrites } from '../../helpers/scim-workload.js';
import { logLines } from '../../helpers/processes.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import {
  repeatsOf,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../helpers/webhook-receiver.js';

/** Deliveries answered before the receiver starts holding: the kill lands mid-stream. */
const ANSWERED_BEFORE_HOLD = 10;
/** The new process waits out the dead one's lease before it takes the endpoint over. */
const TAKEOVER_TIMEOUT_MS = 150_000;

/** Longest the test waits for a line in a process's log. */
const LOG_WAIT_TIMEOUT_MS = 30_000;

let database: TestDatabase;
const receivers: WebhookReceiver[] = [];
const servers: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase({ migrated: true });
  if (database.target.kind !== 'postgres')
    throw new Error('*.pg.*.test.ts files run only with DATABASE_URL (vitest.config.ts)');
});
afterAll(async () => {
  for (const { process } of servers)
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
  await Promise.all(servers.map(({ process }) => process.exited));
  for (const receiver of receivers) await receiver.close();
  await database?.close();
});

async function startServer(): Promise<ServerProcess> {
  if (database.target.kind !== 'postgres') throw new Error('PostgreSQL only');
  const server = await startServerProcess(database.target.url);
  servers.push(server);
  return server;
}

/**
 * A tenant with one webhook to a new receiver at `/hook`, `npm start` running, 8 writers done
 * through its SCIM API, and the receiver holding a delivery unanswered (the ones before it
 * answered): the process is waiting for that answer when this resolves.
 */
async function deliveryInFlight(slug: string) {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const { tenant, token } = await tenantWithScimToken(database, slug);
  const { webhook } = await addWebhook(database, tenant.id, receiver, '/hook');
  receiver.onDelivery(() => {
    if (receiver.deliveries.length === ANSWERED_BEFORE_HOLD) receiver.hold();
  });
  const server = await startServer();
  await concurrentScimWrites(() => new ScimClient(`${server.scimUrl}/scim/v2/${slug}`, token), {
    label: slug,
    usersPerWriter: 3,
  });
  const expected = (await allEventsAfter(database, tenant.id, webhook.deliveredSeq)).map(
    (event) => event.id,
  );
  expect(expected.length).toBeGreaterThan(ANSWERED_BEFORE_HOLD * 2);
  await receiver.waitFor('a delivery held unanswered', () =>
    receiver.deliveries.some((delivery) => !delivery.answered),
  );
  // The held request is still open: the process is waiting for its answer right now.
  expect(receiver.heldConnectionsClosed()).toEqual([false]);
  const held = receiver.deliveries.at(-1)?.event.id ?? '';
  return { receiver, tenant, webhook, server, expected, held };
}

/** Resolves once the process has logged `message`; fails after the wait timeout. */
async function logged(server: ServerProcess, message: string): Promise<void> {
  const deadline = Date.now() + LOG_WAIT_TIMEOUT_MS;
  while (!logLines(server.process.stdout()).some((line) => line.msg === message)) {
    if (Date.now() > deadline) throw new Error(`the server never logged ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the delivering process stopped mid-batch', () => {
  it('SIGKILL: loses nothing and repeats exactly the deliveries that were in flight', async () => {
    const { receiver, tenant, webhook, server, expected } =
      await deliveryInFlight('webhook-sigkill');
    server.process.child.kill('SIGKILL');
    expect(await server.process.exited).toBe('SIGKILL');

    // What the dead process had recorded, and what it had sent beyond that: in flight.
    const recorded = (await getWebhook(database.db, tenant.id, webhook.id)).deliveredSeq;
    const beforeKill = receiver.idsAt('/hook');
    const inFlight = beforeKill.filter((id) => parseEventId(id).seq > recorded);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.at(-1)).toBe(receiver.deliveries.at(-1)?.event.id);
    expect(beforeKill.length).toBeLessThan(expected.length);

    receiver.release();
    const second = await startServer();
    await receiver.waitFor(
      'every event, after the takeover',
      () => new Set(receiver.idsAt('/hook')).size === expected.length,
      TAKEOVER_TIMEOUT_MS,
    );

    expect(receiver.signatureErrors()).toEqual([]);
    // In order, nothing lost, and repeated: exactly the in-flight ones, once each.
    expect(repeatsOf(receiver.idsAt('/hook'), expected)).toEqual(inFlight);
    expect(new Set(receiver.idsAt('/hook'))).toEqual(new Set(expected));

    second.process.child.kill('SIGTERM');
    expect(await second.process.exited).toBe(0);
  }, 240_000);

  it('SIGTERM: the send in hand is finished and recorded before the process exits', async () => {
    const { receiver, tenant, webhook, server, expected, held } =
      await deliveryInFlight('webhook-sigterm');
    server.process.child.kill('SIGTERM');
    await logged(server, 'process.shutdown.started');
    // Shutting down, and still waiting for the receiver's answer.
    expect(server.process.child.exitCode).toBeNull();
    expect(receiver.heldConnectionsClosed()).toEqual([false]);
    receiver.release();
    expect(await server.process.exited).toBe(0);
    const recorded = (await getWebhook(database.db, tenant.id, webhook.id)).deliveredSeq;
    expect(recorded).toBeGreaterThanOrEqual(parseEventId(held).seq);

    const second = await startServer();
    await receiver.waitFor(
      'every event, after the restart',
      () => new Set(receiver.idsAt('/hook')).size === expected.length,
    );
    expect(receiver.signatureErrors()).toEqual([]);
    // Nothing was in flight at the exit: nothing is sent twice.
    expect(repeatsOf(receiver.idsAt('/hook'), expected)).toEqual([]);
    expect(receiver.idsAt('/hook')).toEqual(expected);

    second.process.child.kill('SIGTERM');
    expect(await second.process.exited).toBe(0);
  }, 240_000);
});
