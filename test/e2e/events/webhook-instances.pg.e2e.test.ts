// PostgreSQL only (a *.pg.* file: several processes on one database). Two `npm start`
// processes on one PostgreSQL, both delivering webhooks while 8 SCIM clients write through both:
// every endpoint gets every event once, in the tenant's sequence order, whichever process sent
// it. Nothing was in flight at a crash here, so nothing may arrive twice. Both then stop on
// SIGTERM, each after the deliveries it had in hand.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { addWebhook, allEventsAfter, tenantWithScimToken } from '../../helpers/events-stack.js';
import { ScimClient } from '../../helpers/journey-stack.js';
import { logLines } from '../../helpers/processes.js';
import { concurrentScimWrites } from '../../helpers/scim-workload.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import {
  repeatsOf,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../helpers/webhook-receiver.js';

const SLUG = 'webhook-instances';
/** Endpoints of the tenant: enough that both processes have work at once. */
const ENDPOINTS = ['/a', '/b', '/c', '/d'];

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

describe('two instances delivering at once', () => {
  it('deliver every event once per endpoint, in order', async () => {
    if (database.target.kind !== 'postgres') throw new Error('PostgreSQL only');
    const { tenant, token } = await tenantWithScimToken(database, SLUG);
    let startSeq = 0;
    for (const path of ENDPOINTS) {
      const { webhook } = await addWebhook(
        database,
        tenant.id,
        receiver,
        path,
        path === '/d' ? { events: ['user.created', 'group.*'] } : {},
      );
      startSeq = webhook.deliveredSeq;
    }

    // At debug level each process logs every event it delivered (`webhook.delivered`).
    for (let i = 0; i < 2; i++)
      servers.push(await startServerProcess(database.target.url, { LOG_LEVEL: 'debug' }));
    const clients = servers.map(
      (server) => new ScimClient(`${server.scimUrl}/scim/v2/${SLUG}`, token),
    );
    await concurrentScimWrites((writer) => clients[writer % clients.length] as ScimClient, {
      label: 'two',
      usersPerWriter: 5,
    });

    const expected = await allEventsAfter(database, tenant.id, startSeq);
    const expectedAt = (path: string) =>
      (path === '/d'
        ? expected.filter(
            (event) => event.type === 'user.created' || event.type.startsWith('group.'),
          )
        : expected
      ).map((event) => event.id);
    await receiver.waitFor('every event at every endpoint', () =>
      ENDPOINTS.every((path) => receiver.idsAt(path).length >= expectedAt(path).length),
    );

    expect(receiver.signatureErrors()).toEqual([]);
    for (const path of ENDPOINTS) {
      expect(repeatsOf(receiver.idsAt(path), expectedAt(path)), path).toEqual([]);
      expect(receiver.idsAt(path), path).toEqual(expectedAt(path));
    }

    for (const { process } of servers) process.child.kill('SIGTERM');
    expect(await Promise.all(servers.map(({ process }) => process.exited))).toEqual([0, 0]);
    for (const { process } of servers) expect(process.stderr()).toBe('');
    // Every delivery was made by one process, and both took part (their output read to the end).
    await Promise.all(
      servers.map(({ process: { child } }) =>
        child.stdout && !child.stdout.closed ? once(child.stdout, 'close') : Promise.resolve(),
      ),
    );
    const deliveredBy = servers.map(
      ({ process }) =>
        logLines(process.stdout()).filter((line) => line.msg === 'webhook.delivered').length,
    );
    expect(deliveredBy.reduce((sum, n) => sum + n, 0)).toBe(receiver.deliveries.length);
    expect(
      deliveredBy.every((n) => n > 0),
      `one process delivered everything (${deliveredBy.join(' / ')}): nothing was shared`,
    ).toBe(true);
  }, 180_000);
});
