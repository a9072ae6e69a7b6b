import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import {
  cleanEnv,
  ENTRY,
  freePort,
  logLines,
  runCli,
  startProcess,
  waitUntilReady,
  type RunningProcess,
} from '../helpers/processes.js';

// The launcher `npm start` runs, as a real process: on the embedded database by default, on
// PostgreSQL when the suite runs with DATABASE_URL.
const onPostgres = process.env.DATABASE_URL !== undefined;
let database: TestDatabase | undefined;
let dataDir: string;
let ports: { scim: number; sso: number; admin: number };
let env: NodeJS.ProcessEnv;
let cliEnv: NodeJS.ProcessEnv;
let server: RunningProcess;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'roster-e2e-'));
  ports = { scim: await freePort(), sso: await freePort(), admin: await freePort() };
  const base = {
    ROSTER_DATA_DIR: dataDir,
    SCIM_PORT: String(ports.scim),
    SSO_PORT: String(ports.sso),
    ADMIN_PORT: String(ports.admin),
    HOST: '127.0.0.1',
  };
  if (onPostgres) {
    database = await createTestDatabase({ migrated: false });
    if (database.target.kind !== 'postgres') throw new Error('expected PostgreSQL');
    const adminToken = 'e2e-admin-token-0123456789abcdef';
    env = cleanEnv({ ...base, DATABASE_URL: database.target.url, ROSTER_ADMIN_TOKEN: adminToken });
    cliEnv = cleanEnv({
      ROSTER_URL: `http://127.0.0.1:${ports.admin}`,
      ROSTER_ADMIN_TOKEN: adminToken,
    });
  } else {
    env = cleanEnv(base);
    cliEnv = cleanEnv({ ROSTER_DATA_DIR: dataDir });
  }
  server = startProcess(ENTRY.server, env);
  await Promise.all([
    waitUntilReady(`http://127.0.0.1:${ports.scim}/readyz`, server),
    waitUntilReady(`http://127.0.0.1:${ports.sso}/readyz`, server),
    waitUntilReady(`http://127.0.0.1:${ports.admin}/readyz`, server),
  ]);
});

afterAll(async () => {
  if (server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await database?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const scim = (tenant: string, token: string) =>
  fetch(`http://127.0.0.1:${ports.scim}/scim/v2/${tenant}/ServiceProviderConfig`, {
    headers: { authorization: `Bearer ${token}` },
  });

describe(`npm start (${onPostgres ? 'PostgreSQL' : 'embedded database'})`, () => {
  it('serves both apps and the admin API in one process', async () => {
    for (const port of [ports.scim, ports.sso, ports.admin]) {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    }
    const started = logLines(server.stdout()).find((line) => line.msg === 'roster.started');
    expect(started).toMatchObject({ database: onPostgres ? 'postgres' : 'pglite' });
  });

  // Embedded only: on PostgreSQL the operator configures ROSTER_ADMIN_TOKEN, and any number of
  // processes may share the database.
  if (!onPostgres)
    it('generates an admin token in the data folder, readable by its owner only, and says how to start', async () => {
      const token = await stat(path.join(dataDir, 'admin-token'));
      expect(token.mode & 0o777).toBe(0o600);
      expect(server.stderr()).toContain('npx roster tenant create acme');
    });

  it('lets an operator create a tenant and a token with the CLI, and that token opens the tenant SCIM endpoint', async () => {
    const tenant = await runCli(['tenant', 'create', 'acme', '--json'], cliEnv);
    expect(tenant.stderr).toBe('');
    expect(tenant.code).toBe(0);
    const created = JSON.parse(tenant.stdout) as { id: string; slug: string; scimBaseUrl: string };
    expect(created).toMatchObject({
      slug: 'acme',
      scimBaseUrl: `http://localhost:${ports.scim}/scim/v2/acme`,
    });

    const issued = await runCli(['token', 'create', 'acme', '--json'], cliEnv);
    expect(issued.code).toBe(0);
    const { token, id, scimBaseUrl, expiresAt } = JSON.parse(issued.stdout) as Record<
      string,
      string | null
    >;
    expect(scimBaseUrl).toBe(created.scimBaseUrl);
    expect(expiresAt).toBeNull();

    const res = await scim('acme', String(token));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    });

    // a wrong token, another tenant's token, and a revoked one: 401
    expect((await scim('acme', `${String(token)}x`)).status).toBe(401);
    await runCli(['tenant', 'create', 'globex'], cliEnv);
    const globex = JSON.parse(
      (await runCli(['token', 'create', 'globex', '--json'], cliEnv)).stdout,
    ) as { token: string };
    expect((await scim('acme', globex.token)).status).toBe(401);
    expect((await scim('globex', globex.token)).status).toBe(200);
    expect((await runCli(['token', 'revoke', 'acme', String(id)], cliEnv)).code).toBe(0);
    expect((await scim('acme', String(token))).status).toBe(401);
  });

  it('logs every request with its request id and never the bearer token', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.scim}/scim/v2/acme/ServiceProviderConfig`, {
      headers: {
        authorization: 'Bearer roster_scim_secret-looking-value',
        'x-request-id': 'e2e-req-1',
      },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('e2e-req-1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = logLines(server.stdout()).filter(
      (line) => (line.req as { id?: string } | undefined)?.id === 'e2e-req-1',
    );
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['scim.auth.refused', 'http.request']),
    );
    expect(server.stdout()).not.toContain('secret-looking-value');
  });

  if (!onPostgres)
    it('refuses a second process on the same embedded data folder, with a clear message', async () => {
      const other = { scim: await freePort(), sso: await freePort(), admin: await freePort() };
      const second = startProcess(ENTRY.server, {
        ...env,
        SCIM_PORT: String(other.scim),
        SSO_PORT: String(other.sso),
        ADMIN_PORT: String(other.admin),
      });
      expect(await second.exited).toBe(1);
      expect(second.stderr()).toMatch(
        /another Roster process \(pid \d+\) is already using the embedded database/,
      );
    });

  it('on SIGTERM finishes, closes the database and exits 0', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const lines = logLines(server.stdout()).map((line) => line.msg);
    expect(lines).toEqual(
      expect.arrayContaining(['process.shutdown.started', 'process.shutdown.finished']),
    );
    if (!onPostgres) {
      await expect(stat(path.join(dataDir, 'server.json'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      await expect(stat(path.join(dataDir, 'roster.pid'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
    }
  });
});
