// another team's service, reading Roster only through @roster/core/directory, sees a
// SCIM push and a deactivation within a second. The SCIM app is the real one, on a real HTTP
// port; on PostgreSQL the service has its own connections, opened from the database URL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  systemClock,
  type ChangeContext,
} from '@roster/core';
import type { OpenDirectoryOptions } from '@roster/core/directory';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { startActiveUsers, type ActiveUsers, type Applied } from '../src/index.js';

/** The promise: a change is in the other app within a second of the IdP's request. */
const DELIVERY_DEADLINE_MS = 1_000;
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const operator: ChangeContext = { actor: { type: 'operator', id: 'consumer-e2e' } };

let database: TestDatabase;
let server: Server;
let endpoint: string;
let token: string;
const running: ActiveUsers[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await createTenant(database.db, 'acme', operator);
  ({ token } = await createScimToken(
    database.db,
    'acme',
    { expiresAt: null },
    operator,
    systemClock,
  ));
  const app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'http://127.0.0.1',
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2/acme`;
});

afterAll(async () => {
  for (const service of running) await service.stop();
  await new Promise((resolve) => server.close(resolve));
  await database.close();
});

/** Where the service finds Roster: its URL on PostgreSQL, the embedded engine in process. */
function directoryOptions(): OpenDirectoryOptions {
  return database.target.kind === 'postgres'
    ? { databaseUrl: database.target.url, tenant: 'acme' }
    : { database, tenant: 'acme' };
}

/** Starts the service, with a way to wait for the change it applies next for a user. */
async function startService(since?: string) {
  const applied: Applied[] = [];
  const waiters = new Set<() => void>();
  const service = await startActiveUsers({
    directory: directoryOptions(),
    ...(since !== undefined ? { since } : {}),
    onApplied: (entry) => {
      applied.push(entry);
      for (const wake of waiters) wake();
    },
  });
  running.push(service);
  const appliedFor = async (userId: string, kind: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = applied.find((a) => a.change.entity.id === userId && a.change.kind === kind);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`the service never saw ${kind} of ${userId}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 100);
        waiters.add(wake);
      });
    }
  };
  return { service, applied, appliedFor };
}

async function scim(method: string, path: string, body: unknown) {
  const res = await fetch(`${endpoint}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { id: string } };
}

describe('a consumer app on @roster/core/directory', () => {
  it('sees a SCIM push and a deactivation within a second', async () => {
    const { service, appliedFor } = await startService();
    // A running deployment is warm: one push end to end first (scimmy's and the engine's first
    // request pay their start-up), not timed.
    const warmUp = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'warm-up@acme.example',
    });
    await appliedFor(warmUp.body.id, 'user.created');
    await new Promise((resolve) => setTimeout(resolve, 200)); // following, idle

    const pushedAt = Date.now();
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'ada@acme.example',
      displayName: 'Ada Lovelace',
      active: true,
    });
    expect(created.status).toBe(201);
    const createAnswered = Date.now() - pushedAt;
    const seen = await appliedFor(created.body.id, 'user.created');
    const createLatency = seen.appliedAt - pushedAt;
    expect(seen.active).toBe(true);
    expect(service.people.get(created.body.id)).toEqual({
      id: created.body.id,
      userName: 'ada@acme.example',
      displayName: 'Ada Lovelace',
    });

    const deactivatedAt = Date.now();
    const patched = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(patched.status).toBe(200);
    const deactivateAnswered = Date.now() - deactivatedAt;
    const gone = await appliedFor(created.body.id, 'user.deactivated');
    const deactivateLatency = gone.appliedAt - deactivatedAt;
    expect(gone.active).toBe(false);
    expect(service.people.has(created.body.id)).toBe(false);

    console.info(
      `[${database.target.kind}] SCIM request to consumer: create ${createLatency} ms (SCIM answered in ${createAnswered} ms), deactivate ${deactivateLatency} ms (answered in ${deactivateAnswered} ms)`,
    );
    expect(createLatency).toBeLessThan(DELIVERY_DEADLINE_MS);
    expect(deactivateLatency).toBeLessThan(DELIVERY_DEADLINE_MS);
  });

  it('resumes from the cursor it stored: only what came after, nothing twice', async () => {
    const first = await startService();
    const grace = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'grace@acme.example',
    });
    await first.appliedFor(grace.body.id, 'user.created');
    await first.service.stop();
    const stored = first.service.cursor();
    expect(stored).toBeDefined();

    // Written while the service is down.
    const alan = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'alan@acme.example',
    });
    const second = await startService(stored);
    await second.appliedFor(alan.body.id, 'user.created');
    expect(second.applied.map((a) => a.change.entity.id)).toEqual([alan.body.id]);
    expect(second.applied[0]?.change.seq).toBe((first.applied.at(-1)?.change.seq ?? 0) + 1);
  });
});
