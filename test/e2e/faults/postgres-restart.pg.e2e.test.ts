// Journey 7 (a): PostgreSQL stopped and started again in the middle of a sync. The SCIM
// and SSO apps run as real processes against a cluster of the test's own (test/helpers/
// pg-cluster.ts, so the shared server is never touched). While the database is down both keep
// running, /healthz answers 200, /readyz, SCIM (a SCIM error body) and the sign-in answer 503;
// once it is back the same processes serve again, and no request was half-applied: each user is
// there with all its rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSamlIdp,
  createScimToken,
  createTenant,
  openDatabase,
  serviceProviderUrls,
  systemClock,
  type RosterDatabase,
} from '@roster/core';
import { TestIdp } from '@roster/sso/testing';
import {
  PATCH_SCHEMA,
  ScimClient,
  scimUser,
  type HttpAnswer,
} from '../../helpers/journey-stack.js';
import { startPgCluster, type PgCluster } from '../../helpers/pg-cluster.js';
import {
  cleanEnv,
  ENTRY,
  freePort,
  startProcess,
  waitUntilReady,
  type RunningProcess,
} from '../../helpers/processes.js';
import { checkNothingHalfApplied } from '../../helpers/directory-rows.js';

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SLUG = 'faults';
/** Requests in flight at once in the sync stream. */
const STREAM_WORKERS = 4;

let cluster: PgCluster | undefined;
let scimProcess: RunningProcess | undefined;
let ssoProcess: RunningProcess | undefined;
let ssoUrl: string;
/** The SP-initiated login URL of the tenant's IdP: it reads the database on every request. */
let loginUrl: string;
let database: RosterDatabase | undefined;
let scimUrl: string;
let scim: ScimClient;

beforeAll(async () => {
  cluster = await startPgCluster();
  const port = await freePort();
  scimUrl = `http://127.0.0.1:${port}`;
  scimProcess = startProcess(
    ENTRY.scim,
    cleanEnv({
      DATABASE_URL: cluster.url,
      DATABASE_POOL_MAX: '4',
      HOST: '127.0.0.1',
      SCIM_PORT: String(port),
      SCIM_BASE_URL: scimUrl,
      // The stream is faster than a real IdP; the rate limit is not what this test is about.
      SCIM_RATE_LIMIT_PER_SECOND: '0',
    }),
  );
  // The process migrates the empty cluster on start; ready means migrated and connected.
  await waitUntilReady(`${scimUrl}/readyz`, scimProcess);
  database = await openDatabase({ kind: 'postgres', url: cluster.url, poolMax: 2 });
  const operator = { actor: { type: 'operator', id: 'faults' } } as const;
  await createTenant(database.db, SLUG, operator);
  const issued = await createScimToken(
    database.db,
    SLUG,
    { expiresAt: null },
    operator,
    systemClock,
  );
  scim = new ScimClient(`${scimUrl}/scim/v2/${SLUG}`, issued.token);

  // The SSO app, a second real process on the same cluster, with an IdP to sign in with.
  const idp = await TestIdp.create({ entityId: 'https://sts.windows.net/faults-test/' });
  const idpConfig = await createSamlIdp(
    database.db,
    (
      await database.db
        .selectFrom('tenants')
        .select('id')
        .where('slug', '=', SLUG)
        .executeTakeFirstOrThrow()
    ).id,
    { xml: idp.metadataXml() },
    { name: 'entra', preset: 'entra' },
    operator,
    systemClock,
  );
  const ssoPort = await freePort();
  ssoUrl = `http://127.0.0.1:${ssoPort}`;
  loginUrl = serviceProviderUrls(ssoUrl, SLUG, idpConfig.id).loginUrl;
  ssoProcess = startProcess(
    ENTRY.sso,
    cleanEnv({
      DATABASE_URL: cluster.url,
      DATABASE_POOL_MAX: '4',
      HOST: '127.0.0.1',
      SSO_PORT: String(ssoPort),
      SSO_BASE_URL: ssoUrl,
    }),
  );
  await waitUntilReady(`${ssoUrl}/readyz`, ssoProcess);
}, 120_000);

afterAll(async () => {
  try {
    for (const p of [scimProcess, ssoProcess])
      if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all([scimProcess?.exited, ssoProcess?.exited]);
    await database?.close().catch(() => undefined);
  } finally {
    await cluster?.destroy();
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function status(url: string): Promise<number> {
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    await res.text();
    return res.status;
  } catch (error) {
    throw new Error(`${url} did not answer: ${String(error)}`, { cause: error });
  }
}

/** Polls until `check` holds; fails naming `what` after a generous wait. */
async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const [name, p] of [
      ['SCIM', scimProcess],
      ['SSO', ssoProcess],
    ] as const)
      if (p && p.child.exitCode !== null)
        throw new Error(
          `${what}: the ${name} process exited (${p.child.exitCode}):\n` +
            p.stderr().slice(-4_000) +
            p.stdout().slice(-4_000),
        );
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what}: still not true after ${timeoutMs} ms`);
}

interface Sent {
  readonly what: 'create' | 'patch';
  readonly userName: string;
  readonly answer: HttpAnswer | Error;
  readonly displayName?: string;
  readonly id?: string;
}

describe('journey 7 (a): PostgreSQL stops and starts again during a sync', () => {
  it('answers 503 while down, recovers without a restart, and half-applies nothing', async () => {
    const sent: Sent[] = [];
    const created: { userName: string; id: string }[] = [];
    let counter = 0;
    let running = true;

    // The sync: creates, and patches of users created earlier (each patched at most once).
    const worker = async () => {
      while (running) {
        const target = counter % 3 === 2 ? created.shift() : undefined;
        const n = counter++;
        if (target) {
          const displayName = `Patched ${n}`;
          const answer = await scim
            .patch(`/Users/${target.id}`, {
              schemas: [PATCH_SCHEMA],
              Operations: [{ op: 'replace', path: 'displayName', value: displayName }],
            })
            .catch((error: Error) => error);
          sent.push({
            what: 'patch',
            userName: target.userName,
            id: target.id,
            displayName,
            answer,
          });
        } else {
          const userName = `user${n}@faults.example`;
          const answer = await scim
            .post('/Users', scimUser(userName, { emails: [{ value: userName, primary: true }] }))
            .catch((error: Error) => error);
          sent.push({ what: 'create', userName, answer });
          if (!(answer instanceof Error) && answer.status === 201)
            created.push({ userName, id: String(answer.body.id) });
        }
        await sleep(5);
      }
    };
    const succeeded = () =>
      sent.filter((s) => !(s.answer instanceof Error) && s.answer.status < 300).length;
    const stream = Promise.all(Array.from({ length: STREAM_WORKERS }, worker));

    try {
      await eventually('the sync gets going', () => succeeded() >= 30);

      // The database goes away in the middle of the sync.
      await cluster?.stop();
      const pids = [scimProcess?.child.pid, ssoProcess?.child.pid];
      await eventually('SCIM answers 503 while the database is down', async () => {
        const answer = await scim.post('/Users', scimUser('down@faults.example'));
        return answer.status === 503;
      });
      const down = await scim.post('/Users', scimUser('down2@faults.example'));
      expect(down.status, down.text).toBe(503);
      expect(down.body.schemas).toEqual([SCIM_ERROR_SCHEMA]);
      expect(down.body.status).toBe('503');
      const read = await scim.get('/Users');
      expect(read.status, read.text).toBe(503);
      expect(await status(`${scimUrl}/healthz`)).toBe(200);
      expect(await status(`${scimUrl}/readyz`)).toBe(503);
      // The SSO app too: alive, not ready, and a sign-in answers 503 rather than failing.
      expect(await status(`${ssoUrl}/healthz`)).toBe(200);
      expect(await status(`${ssoUrl}/readyz`)).toBe(503);
      expect(await status(loginUrl)).toBe(503);
      const succeededWhileDown = succeeded();
      await sleep(1_000);
      expect(scimProcess?.child.exitCode).toBeNull();
      expect(ssoProcess?.child.exitCode).toBeNull();

      // Back again: the same process serves, no restart of its own.
      await cluster?.start();
      await eventually('ready again', async () => (await status(`${scimUrl}/readyz`)) === 200);
      await eventually('the sync goes on', () => succeeded() >= succeededWhileDown + 30);
      await eventually('SSO ready again', async () => (await status(`${ssoUrl}/readyz`)) === 200);
      expect(await status(loginUrl)).toBe(302);
      expect([scimProcess?.child.pid, ssoProcess?.child.pid]).toEqual(pids);
      expect(scimProcess?.child.exitCode).toBeNull();
      expect(ssoProcess?.child.exitCode).toBeNull();
    } finally {
      running = false;
      await stream;
    }

    // Every answer is a success or a 503: never a 500, never a dropped connection.
    const failures = sent
      .filter((s) => s.answer instanceof Error || ![200, 201, 503].includes(s.answer.status))
      .map((s) => {
        if (s.answer instanceof Error) return s.answer.message;
        // The process's log lines of that request, to say what went wrong inside.
        const requestId = /request id ([0-9a-f-]+)/.exec(s.answer.text)?.[1] ?? '-';
        const logged = (scimProcess?.stdout() ?? '')
          .split('\n')
          .filter((line) => line.includes(requestId) && line.includes('"err"'));
        return `${s.what} ${s.userName}: ${s.answer.text}\n${logged.join('\n').slice(0, 3_000)}`;
      });
    expect(failures).toEqual([]);
    expect(sent.some((s) => !(s.answer instanceof Error) && s.answer.status === 503)).toBe(true);

    // Nothing half-applied: every 201 is a whole user, every 200 patch is visible, and every
    // user in the database (those whose answer was a 503 included) has all its rows.
    if (!database) throw new Error('no database handle');
    const db = database.db;
    const createdOk = sent.filter(
      (s) => s.what === 'create' && !(s.answer instanceof Error) && s.answer.status === 201,
    );
    const users = await db
      .selectFrom('users')
      .select(['id', 'user_name', 'display_name'])
      .execute();
    const byUserName = new Map(users.map((u) => [u.user_name, u]));
    for (const s of createdOk) expect(byUserName.has(s.userName), s.userName).toBe(true);
    for (const s of sent.filter(
      (x) => x.what === 'patch' && !(x.answer instanceof Error) && x.answer.status === 200,
    ))
      expect(byUserName.get(s.userName)?.display_name, s.userName).toBe(s.displayName);
    await checkNothingHalfApplied(db, users);
  }, 240_000);
});
