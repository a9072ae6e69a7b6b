// PostgreSQL only (a *.pg.* file): Roster's SCIM app and the consumer example each as their own
// process, as they are deployed, meeting only in the database. The consumer's log lines are
// timed as they reach this process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScimToken, createTenant, systemClock, type ChangeContext } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';

const DELIVERY_DEADLINE_MS = 1_000;
const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = path.resolve(PACKAGE_DIR, '../..');
const SCIM_ENTRY = path.join(REPO_ROOT, 'apps/scim/dist/main.js');
const CONSUMER_ENTRY = path.join(PACKAGE_DIR, 'dist/main.js');
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const operator: ChangeContext = { actor: { type: 'operator', id: 'consumer-process-e2e' } };

interface Line {
  readonly at: number;
  readonly json: Record<string, unknown>;
}

let database: TestDatabase;
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** Starts `entry` with only the variables given (plus PATH), collecting its JSON stdout lines. */
function start(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Line[] = [];
  let pending = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const at = Date.now();
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const text of complete)
      if (text.startsWith('{')) lines.push({ at, json: JSON.parse(text) as Line['json'] });
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lineWhere = async (match: (json: Line['json']) => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((line) => match(line.json));
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`no such line from ${path.basename(entry)}; stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, lines, lineWhere };
}

beforeAll(async () => {
  // The consumer runs from its build, as it would be deployed (turbo builds only dependencies).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: PACKAGE_DIR });
  database = await createTestDatabase();
  if (database.target.kind !== 'postgres')
    throw new Error('*.pg.*.test.ts files run only with DATABASE_URL (vitest.config.ts)');
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await database.close();
});

describe('the consumer example and the SCIM app as processes on PostgreSQL', () => {
  it('the consumer logs a SCIM push and a deactivation within a second of each request', async () => {
    if (database.target.kind !== 'postgres') throw new Error('PostgreSQL only');
    const url = database.target.url;
    await createTenant(database.db, 'acme', operator);
    const { token } = await createScimToken(
      database.db,
      'acme',
      { expiresAt: null },
      operator,
      systemClock,
    );

    const port = await freePort();
    const scimApp = start(SCIM_ENTRY, {
      DATABASE_URL: url,
      HOST: '127.0.0.1',
      SCIM_PORT: String(port),
      ROSTER_ADMIN_TOKEN: 'consumer-process-admin-token-0123456789',
    });
    const endpoint = `http://127.0.0.1:${port}`;
    for (let ready = false; !ready;) {
      if (scimApp.child.exitCode !== null) throw new Error('the SCIM app exited');
      ready = await fetch(`${endpoint}/readyz`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const consumer = start(CONSUMER_ENTRY, { DATABASE_URL: url, ROSTER_TENANT: 'acme' });
    await consumer.lineWhere((json) => json.msg === 'following');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const scim = (method: string, resource: string, body: unknown) =>
      fetch(`${endpoint}/scim/v2/acme${resource}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify(body),
      });

    // A running deployment is warm: one push end to end first, not timed.
    const warmUp = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'warm-up@acme.example',
    });
    const { id: warmUpId } = (await warmUp.json()) as { id: string };
    await consumer.lineWhere((json) => json.user === warmUpId);

    const pushedAt = Date.now();
    const created = await scim('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: 'ada@acme.example',
      active: true,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const seen = await consumer.lineWhere(
      (json) => json.user === id && json.kind === 'user.created',
    );
    expect(seen.json).toMatchObject({ active: true, activeUsers: 2 });

    const deactivatedAt = Date.now();
    const patched = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(patched.status).toBe(200);
    const gone = await consumer.lineWhere(
      (json) => json.user === id && json.kind === 'user.deactivated',
    );
    expect(gone.json).toMatchObject({ active: false, activeUsers: 1 });

    console.info(
      `[processes] SCIM request to consumer log line: create ${seen.at - pushedAt} ms, deactivate ${gone.at - deactivatedAt} ms`,
    );
    expect(seen.at - pushedAt).toBeLessThan(DELIVERY_DEADLINE_MS);
    expect(gone.at - deactivatedAt).toBeLessThan(DELIVERY_DEADLINE_MS);

    // SIGTERM: the consumer ends its feed, closes its connections and exits 0.
    const exited = new Promise<number | null>((resolve) =>
      consumer.child.once('exit', (code) => resolve(code)),
    );
    consumer.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
