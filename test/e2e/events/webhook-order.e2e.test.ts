// Webhooks under concurrent SCIM writes, on both engines: the SCIM and admin apps on real ports,
// 8 clients creating and changing users and groups through the SCIM API at once, the webhook
// worker as `npm start` runs it, and a real receiver that checks every signature with the
// `standardwebhooks` package. Each endpoint must get every event of its types once, in the
// tenant's sequence order, with the body the events API lists. The change feed of
// @roster/core/directory, the events API and the webhooks must name the same events in the same
// order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventId, eventJson, eventTypeOfChange, type RosterEvent } from '@roster/core';
import { openDirectory } from '@roster/core/directory';
import { allEventsAfter, startEventsStack, type EventsStack } from '../../helpers/events-stack.js';
import { concurrentScimWrites } from '../../helpers/scim-workload.js';
import {
  repeatsOf,
  startWebhookReceiver,
  type DeliveredEvent,
  type WebhookReceiver,
} from '../../helpers/webhook-receiver.js';

const SLUG = 'webhook-order';
let stack: EventsStack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startEventsStack(SLUG);
  receiver = await startWebhookReceiver();
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

/** The body a `standard` webhook carries: the event as the events API lists it, and the tenant. */
const asSent = (event: RosterEvent) =>
  JSON.parse(JSON.stringify({ ...eventJson(event), tenant: SLUG })) as unknown;

/** The tenant's events API from the cursor `after` to its end, page by page (bodies as listed). */
async function readEventsApi(after: string): Promise<DeliveredEvent[]> {
  const listed: DeliveredEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await stack.admin(
      'GET',
      `/v1/tenants/${SLUG}/events?after=${encodeURIComponent(cursor)}&limit=25`,
    );
    expect(page.status, page.text).toBe(200);
    const events = page.body.events as DeliveredEvent[];
    if (events.length === 0) return listed;
    listed.push(...events);
    cursor = String(page.body.next);
  }
}

describe('webhooks under 8 concurrent SCIM writers', () => {
  it('deliver every event to each endpoint once, in sequence order, signed and as listed', async () => {
    const all = await stack.addWebhook(receiver, '/all');
    const groups = await stack.addWebhook(receiver, '/groups', { events: ['group.*'] });
    expect(groups.webhook.deliveredSeq).toBe(all.webhook.deliveredSeq);

    await concurrentScimWrites(() => stack.scim, { label: 'order', usersPerWriter: 5 });

    const expected = await allEventsAfter(
      stack.database,
      stack.tenant.id,
      all.webhook.deliveredSeq,
    );
    const expectedGroups = expected.filter((event) => event.type.startsWith('group.'));
    // 8 writers: 5 creates and 5 renames each, a group, its members added and removed, a
    // deactivation.
    expect(expected).toHaveLength(8 * 14);
    expect(expectedGroups).toHaveLength(8 * 3);
    await receiver.waitFor(
      'every event at /all and every group event at /groups',
      () =>
        receiver.idsAt('/all').length >= expected.length &&
        receiver.idsAt('/groups').length >= expectedGroups.length,
    );

    expect(receiver.signatureErrors()).toEqual([]);
    expect(
      repeatsOf(
        receiver.idsAt('/all'),
        expected.map((event) => event.id),
      ),
    ).toEqual([]);
    expect(receiver.idsAt('/all')).toEqual(expected.map((event) => event.id));
    expect(receiver.idsAt('/groups')).toEqual(expectedGroups.map((event) => event.id));
    const atAll = receiver.deliveries.filter((delivery) => delivery.path === '/all');
    expect(atAll.map((delivery) => delivery.event)).toEqual(expected.map(asSent));
    // Standard Webhooks: the message id is the event's, the same on every retry.
    expect(atAll.map((delivery) => delivery.webhookId)).toEqual(expected.map((event) => event.id));
  });

  it('the change feed, the events API and the webhook give the same events in the same order', async () => {
    const directory = await openDirectory({ database: stack.database, tenant: SLUG });
    try {
      const head = await directory.head();
      const hook = await stack.addWebhook(receiver, '/agree');
      await concurrentScimWrites(() => stack.scim, { label: 'agree', usersPerWriter: 3 });
      const expected = await allEventsAfter(
        stack.database,
        stack.tenant.id,
        hook.webhook.deliveredSeq,
      );
      expect(expected.length).toBeGreaterThan(0);
      const lastSeq = expected.at(-1)?.seq ?? 0;

      // The change feed: every outbox change, the events among them by their id.
      const fromFeed: string[] = [];
      for await (const change of directory.changes({ since: head })) {
        if (eventTypeOfChange(change.kind)) fromFeed.push(eventId(stack.tenant.id, change.seq));
        if (change.seq >= lastSeq) break;
      }
      const fromApi = await readEventsApi(head);
      await receiver.waitFor(
        'every event at /agree',
        () => receiver.idsAt('/agree').length >= expected.length,
      );
      const fromWebhook = receiver.idsAt('/agree');

      expect(fromFeed).toEqual(expected.map((event) => event.id));
      expect(fromApi.map((event) => event.id)).toEqual(fromFeed);
      expect(fromWebhook).toEqual(fromFeed);
      // The same bodies: the webhook's is the listed event and the tenant's slug.
      const webhookBodies = receiver.deliveries
        .filter((delivery) => delivery.path === '/agree')
        .map((delivery) => delivery.event);
      expect(webhookBodies).toEqual(fromApi.map((event) => ({ ...event, tenant: SLUG })));
      expect(receiver.signatureErrors()).toEqual([]);
    } finally {
      await directory.close();
    }
  });
});
