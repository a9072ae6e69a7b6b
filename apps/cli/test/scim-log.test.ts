import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '@roster/admin';
import {
  createLogger,
  createTenant,
  fixedClock,
  recordScimRequest,
  REDACTED,
  type ScimRequestRecord,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';

interface ScimRequestJson {
  requestId: string;
  method: string;
  path: string;
  status: number;
  requestBody: unknown;
  responseBody: unknown;
}

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const ADMIN_TOKEN = 'cli-scim-log-admin-token-0123456789';
const HOUR = 3_600_000;
let database: TestDatabase;
let server: Server;
let adminUrl: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: fixedClock(),
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: 'https://scim.roster.test',
    ssoBaseUrl: 'https://sso.roster.test',
  });
  server = await listen(app, '127.0.0.1', 0);
  adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The CLI turns --since 1h into an instant from the real clock, so the entries are placed
  // around the real now: one two days ago, three within the last few minutes.
  const tenantId = (await createTenant(database.db, 'okta-co', { actor: { type: 'system' } })).id;
  const now = Date.now();
  const log = (agoMs: number, record: Partial<ScimRequestRecord>) =>
    recordScimRequest(database.db, tenantId, {
      occurredAt: new Date(now - agoMs),
      requestId: 'r',
      method: 'GET',
      path: '/scim/v2/okta-co/Users',
      status: 200,
      durationMs: 4,
      ...record,
    });
  await log(48 * HOUR, { requestId: 'old', status: 200 });
  await log(3 * 60_000, {
    requestId: 'create',
    method: 'POST',
    status: 409,
    durationMs: 12,
    requestBody: { userName: 'ana@example.com', password: 'hunter2' },
    responseBody: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
      detail: 'userName "ana@example.com" is taken (request id create)',
    },
  });
  await log(2 * 60_000, {
    requestId: 'lookup',
    path: '/scim/v2/okta-co/Users?filter=userName%20eq%20%22ana%22',
    status: 200,
    responseBody: { totalResults: 1 },
  });
  await log(60_000, {
    requestId: 'missing',
    path: '/scim/v2/okta-co/Users/123',
    status: 404,
    responseBody: {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '404',
      detail: 'no such user (request id missing)',
    },
  });
});

afterAll(async () => {
  if (server) await closeGracefully(server, 2_000);
  await database?.close();
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function roster(args: readonly string[]): Promise<CliResult> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('ROSTER_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { ...inherited, ROSTER_URL: adminUrl, ROSTER_ADMIN_TOKEN: ADMIN_TOKEN },
        timeout: 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function scimLogJson(args: readonly string[]): Promise<ScimRequestJson[]> {
  const result = await roster(['scim-log', 'okta-co', ...args, '--json']);
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as ScimRequestJson[];
}
const idsOf = (entries: ScimRequestJson[]) => entries.map((e) => e.requestId);

describe('roster scim-log', () => {
  it('--json prints the entries oldest first, bodies redacted', async () => {
    const entries = await scimLogJson([]);
    expect(idsOf(entries)).toEqual(['old', 'create', 'lookup', 'missing']);
    expect(entries[1]).toMatchObject({
      method: 'POST',
      status: 409,
      requestBody: { userName: 'ana@example.com', password: REDACTED },
    });
  });

  it('--since takes a duration or an ISO time, --status a class or a status, --limit the newest', async () => {
    expect(idsOf(await scimLogJson(['--since', '1h']))).toEqual(['create', 'lookup', 'missing']);
    expect(idsOf(await scimLogJson(['--since', '30m', '--status', '4xx']))).toEqual([
      'create',
      'missing',
    ]);
    expect(idsOf(await scimLogJson(['--since', '2d', '--status', '404']))).toEqual(['missing']);
    expect(idsOf(await scimLogJson(['--since', '2999-01-01T00:00:00Z']))).toEqual([]);
    expect(idsOf(await scimLogJson(['--status', '2XX']))).toEqual(['old', 'lookup']);
    expect(idsOf(await scimLogJson(['--limit', '2']))).toEqual(['lookup', 'missing']);
  });

  it('prints one line per request with time, method, path, status, duration and the SCIM error', async () => {
    const result = await roster(['scim-log', 'okta-co', '--since', '1h']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^When {2,}Method {2,}Path {2,}Status {2,}Duration {2,}Detail$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT\S+Z\s+POST\s+\/scim\/v2\/okta-co\/Users\s+409\s+12ms\s+uniqueness: userName "ana@example.com" is taken$/,
    );
    expect(lines[2]).toMatch(/\sGET\s+\/scim\/v2\/okta-co\/Users\?filter=\S+\s+200\s+4ms\s+-$/);
    expect(lines[3]).toMatch(/\s404\s+4ms\s+no such user$/);
    expect(result.stdout).not.toContain('hunter2');
  });

  it('when an option is not valid then it exits non-zero and says why', async () => {
    for (const args of [
      ['--status', '4x'],
      ['--status', 'errors'],
      ['--since', 'yesterday'],
      ['--limit', '0'],
      ['--limit', '501'],
    ]) {
      const result = await roster(['scim-log', 'okta-co', ...args]);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/expected/);
    }
  });

  it('when the tenant does not exist then it exits 1 with the 404', async () => {
    const result = await roster(['scim-log', 'nobody']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/404 tenant "nobody" does not exist/);
  });
});
