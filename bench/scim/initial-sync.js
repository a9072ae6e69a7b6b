// scim.initial-sync: a first Entra cycle into an empty tenant, pushed by 8 concurrent clients:
// for every user a filtered GET then a POST; then for every group a filtered GET, a POST without
// members and a PATCH adding its members (Entra's order and shapes, as in apps/scim/test/interop/fixtures/entra.ts).
// The tenant has one webhook endpoint, served by the webhook worker in this process (as
// `npm start` runs it beside the SCIM app): events.throughput is its deliveries per second during
// the sync.
/* global console, performance */
import { round } from '../lib/measure.js';
import { eqFilter, ScimClient } from './http-client.js';
import { createBenchTenant } from './environment.js';
import { newUserBody } from './create.js';
import { reportEventsThroughput, startWebhookDelivery } from '../events.js';

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Members of group g: 15..25 (20 on average) consecutive users, wrapping around. */
function membersOf(g, userIds) {
  const count = 15 + (g % 11);
  return Array.from({ length: count }, (_, j) => userIds[(g * 20 + j) % userIds.length]);
}

/** Runs `work(i)` for i in 0..count-1 on `workers` concurrent loops. */
async function pushAll(count, workers, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

async function expectEmpty(client, path) {
  const response = await client.expect([200], 'GET', path);
  if (response.body.totalResults !== 0) {
    throw new Error(`${path}: expected no match before create, got ${response.body.totalResults}`);
  }
}

export async function benchInitialSync({
  env,
  scim,
  report,
  helloRate,
  users,
  groups,
  concurrency,
}) {
  const tenant = await createBenchTenant(env.database, 'sync');
  const delivery = await startWebhookDelivery(env.database, tenant);
  const client = new ScimClient(scim.port, tenant.slug, tenant.token, concurrency);
  const userIds = new Array(users);
  let requests = 0;
  try {
    const started = performance.now();
    await pushAll(users, concurrency, async (i) => {
      const body = newUserBody('sync', i);
      await expectEmpty(client, `/Users?${eqFilter('userName', body.userName)}`);
      const created = await client.expect([201], 'POST', '/Users', body);
      userIds[i] = created.body.id;
      requests += 2;
    });
    const usersSeconds = (performance.now() - started) / 1000;
    await pushAll(groups, concurrency, async (g) => {
      const displayName = `Sync Group ${g}`;
      await expectEmpty(client, `/Groups?${eqFilter('displayName', displayName)}`);
      const created = await client.expect([201], 'POST', '/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName,
        externalId: `sync-group-${g}`,
        members: [],
      });
      // Entra writes "Add" with a capital A (apps/scim/test/interop/fixtures/entra.ts).
      await client.expect([200, 204], 'PATCH', `/Groups/${created.body.id}`, {
        schemas: [PATCH_OP],
        Operations: [
          {
            op: 'Add',
            path: 'members',
            value: membersOf(g, userIds).map((value) => ({ value })),
          },
        ],
      });
      requests += 3;
    });
    const ended = performance.now();
    const deliveredDuringSync = delivery.receiver.count();
    const seconds = (ended - started) / 1000;
    const { rows } = await env.pool.query(
      `select (select count(*)::int from users where tenant_id = $1) as users,
              (select count(*)::int from groups where tenant_id = $1) as groups,
              (select count(*)::int from group_members where tenant_id = $1) as members`,
      [tenant.id],
    );
    console.log(
      `  scim.initial-sync: ${users} users in ${round(usersSeconds, 1)} s, ${groups} groups in ${round(seconds - usersSeconds, 1)} s; ${requests} requests, ${round(requests / seconds)} req/s, ${round((users + groups) / seconds)} objects/s (Entra documents 0.2–1.7 objects/s); stored ${rows[0].users} users, ${rows[0].groups} groups, ${rows[0].members} memberships`,
    );
    report(
      'scim.initial-sync',
      seconds,
      's',
      requests / helloRate,
      'same requests at express hello rate',
      { max: 3 },
    );
    // One event per user and per group created, one per group's members added.
    await reportEventsThroughput({
      delivery,
      deliveredDuringSync,
      seconds,
      ended,
      eventsWritten: users + 2 * groups,
      report,
    });
  } finally {
    client.close();
    await delivery.stop();
  }
}
