// Journey 7 (b): the SCIM process killed with SIGKILL in the middle of a /Bulk of many
// POSTs (no graceful shutdown, connections cut mid-transaction). After a restart each operation
// is either fully applied (the user with its emails, audit event and outbox entry) or not at all,
// and the restarted process serves the directory as the database holds it. The test runs its own
// PostgreSQL cluster (test/helpers/pg-cluster.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createScimToken,
  createTenant,
  openDatabase,
  systemClock,
  type RosterDatabase,
} from '@roster/core';
import { checkNothingHalfApplied } from '../../helpers/directory-rows.js';
import { BULK_REQUEST_SCHEMA, ScimClient, scimUser } from '../../helpers/journey-stack.js';
import { startPgCluster, type PgCluster } from '../../helpers/pg-cluster.js';
import {
  cleanEnv,
  ENTRY,
  freePort,
  startProcess,
  waitUntilReady,
  type RunningProcess,
} from '../../helpers/processes.js';

const SLUG = 'bulkkill';
/** Operations in the killed /Bulk: enough that it is still running when the kill lands. */
const OPERATIONS = 500;

let cluster: PgCluster | undefined;
const processes: RunningProcess[] = [];
let database: RosterDatabase | undefined;

afterAll(async () => {
  try {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await database?.close().catch(() => undefined);
  } finally {
    await cluster?.destroy();
  }
});

async function startScim(): Promise<{ url: string; process: RunningProcess }> {
  if (!cluster) throw new Error('no cluster');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = startProcess(
    ENTRY.scim,
    cleanEnv({
      DATABASE_URL: cluster.url,
      HOST: '127.0.0.1',
      SCIM_PORT: String(port),
      SCIM_BASE_URL: url,
      SCIM_RATE_LIMIT_PER_SECOND: '0',
    }),
  );
  processes.push(started);
  await waitUntilReady(`${url}/readyz`, started);
  return { url, process: started };
}

let token: string;
beforeAll(async () => {
  cluster = await startPgCluster();
  await startScim().then(({ process }) => process.child.kill('SIGTERM'));
  database = await openDatabase({ kind: 'postgres', url: cluster.url, poolMax: 2 });
  const operator = { actor: { type: 'operator', id: 'faults' } } as const;
  await createTenant(database.db, SLUG, operator);
  token = (await createScimToken(database.db, SLUG, { expiresAt: null }, operator, systemClock))
    .token;
}, 120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('journey 7 (b): SIGKILL during a /Bulk', () => {
  it('leaves every operation fully applied or not at all', async () => {
    if (!database) throw new Error('no database handle');
    const db = database.db;
    const first = await startScim();
    const userNames = Array.from({ length: OPERATIONS }, (_, i) => `bulk${i}@faults.example`);
    const bulk = {
      schemas: [BULK_REQUEST_SCHEMA],
      Operations: userNames.map((userName, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `b${i}`,
        data: scimUser(userName),
      })),
    };
    let answered = false;
    const request = new ScimClient(`${first.url}/scim/v2/${SLUG}`, token).post('/Bulk', bulk).then(
      () => (answered = true),
      () => undefined, // the connection dies with the process
    );

    // Kill once the bulk is under way: some users written (operations in their own
    // transactions), or the request in flight a moment (one transaction for the whole bulk).
    const sentAt = Date.now();
    for (;;) {
      const count = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= 20 || Date.now() - sentAt > 300 || answered) break;
      await sleep(10);
    }
    first.process.child.kill('SIGKILL');
    expect(await first.process.exited).toBe('SIGKILL');
    await request;
    expect(answered, 'the /Bulk finished before the kill: nothing was tested').toBe(false);

    // Restarted, the app serves what the database holds.
    const second = await startScim();
    const scim = new ScimClient(`${second.url}/scim/v2/${SLUG}`, token);
    const users = await db.selectFrom('users').select(['id', 'user_name']).execute();
    for (const user of users) expect(userNames).toContain(user.user_name);
    expect(users.length, 'the kill landed after the last operation').toBeLessThan(OPERATIONS);
    await checkNothingHalfApplied(db, users);
    const listed = await scim.get('/Users?count=1');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.totalResults).toBe(users.length);

    // The IdP retries the same bulk: every operation now lands once (201 or 409), none fails.
    const retried = await scim.post('/Bulk', bulk);
    expect(retried.status, retried.text).toBe(200);
    const statuses = (retried.body.Operations as { status: string }[]).map((o) => o.status);
    expect(statuses.filter((s) => !['201', '409'].includes(s))).toEqual([]);
    const after = await db.selectFrom('users').select(['id', 'user_name']).execute();
    expect(after.map((u) => u.user_name).sort()).toEqual([...userNames].sort());
    await checkNothingHalfApplied(db, after);
  }, 240_000);
});
