// `roster scim-client …` end to end: the built CLI in a child process against a real admin API.
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '@roster/admin';
import {
  createLogger,
  createTenant,
  findScimClient,
  systemClock,
  verifyOidcAppSecret,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const ADMIN_TOKEN = 'roster_admin_test-token-for-scim-client-commands';
const SSO = 'https://sso.roster.test';
const SCIM = 'https://scim.roster.test';
let database: TestDatabase;
let server: Server;
let env: Record<string, string>;
let acme: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  const app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: SCIM,
    ssoBaseUrl: SSO,
  });
  server = await listen(app, '127.0.0.1', 0);
  env = {
    ROSTER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ROSTER_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  acme = await createTenant(database.db, 'acme', { actor: { type: 'system' } });
});

afterAll(async () => {
  if (server) await closeGracefully(server, 2_000);
  await database?.close();
});

function roster(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('ROSTER_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...inherited, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function json<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const result = await roster([...args, '--json']);
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as T;
}

interface Credentials {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  audience: string;
}

describe('roster scim-client', () => {
  it('add --json prints exactly the client ID, secret, token URL and audience', async () => {
    const added = await json<Credentials>([
      'scim-client',
      'add',
      'acme',
      '--name',
      'Entra',
      '--token-lifetime',
      '2h',
    ]);
    expect(Object.keys(added).sort()).toEqual(['audience', 'clientId', 'clientSecret', 'tokenUrl']);
    expect(added).toMatchObject({
      tokenUrl: `${SSO}/oidc/acme/token`,
      audience: `${SCIM}/scim/v2/acme`,
    });
    expect(
      await verifyOidcAppSecret(database.db, acme.id, added.clientId, added.clientSecret),
    ).toBe(true);
    expect((await findScimClient(database.db, acme.id, added.clientId))?.tokenLifetimeMinutes).toBe(
      120,
    );
    const listed = await json<{ clientId: string; tokenLifetimeMinutes: number }[]>([
      'scim-client',
      'list',
      'acme',
    ]);
    expect(listed).toContainEqual(
      expect.objectContaining({ clientId: added.clientId, tokenLifetimeMinutes: 120 }),
    );
    expect(JSON.stringify(listed)).not.toContain(added.clientSecret);
  });

  it('defaults to 60 minutes and prints the secret once, readably', async () => {
    const result = await roster(['scim-client', 'add', 'acme', '--name', 'Okta']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Client secret: +roster_cs_/);
    expect(result.stdout).toContain('shown once');
    expect(result.stdout).toContain(`Token endpoint:  ${SSO}/oidc/acme/token`);
    expect(result.stdout).toContain('Token lifetime:  60 minutes');
  });

  it('refuses a lifetime outside 60-360 minutes with a clear error, and registers nothing', async () => {
    const before = await json<unknown[]>(['scim-client', 'list', 'acme']);
    for (const lifetime of ['30m', '7h', '361']) {
      const result = await roster([
        'scim-client',
        'add',
        'acme',
        '--name',
        'X',
        '--token-lifetime',
        lifetime,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('from 60 to 360');
    }
    const garbled = await roster([
      'scim-client',
      'add',
      'acme',
      '--name',
      'X',
      '--token-lifetime',
      'soon',
    ]);
    expect(garbled.code).not.toBe(0);
    expect(garbled.stderr).toContain('like 60m or 2h');
    expect(await json<unknown[]>(['scim-client', 'list', 'acme'])).toHaveLength(before.length);
  });

  it('rotate-secret gives a new secret; remove takes the client away', async () => {
    const added = await json<Credentials>(['scim-client', 'add', 'acme', '--name', 'Entra']);
    const rotated = await json<Credentials>([
      'scim-client',
      'rotate-secret',
      'acme',
      added.clientId,
    ]);
    expect(rotated.clientSecret).not.toBe(added.clientSecret);
    expect(
      await verifyOidcAppSecret(database.db, acme.id, added.clientId, added.clientSecret),
    ).toBe(false);
    expect(
      await verifyOidcAppSecret(database.db, acme.id, added.clientId, rotated.clientSecret),
    ).toBe(true);
    const removed = await roster(['scim-client', 'remove', 'acme', added.clientId]);
    expect(removed.stdout).toContain(`Removed SCIM client Entra (${added.clientId})`);
    const again = await roster(['scim-client', 'remove', 'acme', added.clientId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('does not exist');
  });
});
