// `roster app …` and `roster oidc …` end to end: the built CLI in a child process against a
// real admin API.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '@roster/admin';
import {
  createLogger,
  createTenant,
  systemClock,
  verifyOidcAppSecret,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const ADMIN_TOKEN = 'roster_admin_test-token-for-app-commands';
const SSO = 'https://sso.roster.test';
const ISSUER = `${SSO}/oidc/acme`;
let database: TestDatabase;
let server: Server;
let env: Record<string, string>;
let workDir: string;
let acme: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  workDir = await mkdtemp(path.join(tmpdir(), 'roster-app-cli-'));
  const app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: 'https://scim.roster.test',
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
  if (workDir) await rm(workDir, { recursive: true, force: true });
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
      { cwd: workDir, env: { ...inherited, USER: 'app-tester', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        });
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
  clientSecret: string | null;
  issuer: string;
  discoveryUrl: string;
}

describe('roster app', () => {
  it('add --json prints exactly the client ID, secret, issuer and discovery URL', async () => {
    const added = await json<Credentials>([
      'app',
      'add',
      'acme',
      '--name',
      'Wiki',
      '--redirect-uri',
      'https://wiki.example.com/callback',
      'https://wiki.example.com/callback2',
      '--post-logout-redirect-uri',
      'https://wiki.example.com/',
      '--backchannel-logout-uri',
      'https://wiki.example.com/backchannel',
    ]);
    expect(Object.keys(added).sort()).toEqual(
      ['clientId', 'clientSecret', 'discoveryUrl', 'issuer'].sort(),
    );
    expect(added).toMatchObject({
      issuer: ISSUER,
      discoveryUrl: `${ISSUER}/.well-known/openid-configuration`,
    });
    expect(added.clientSecret).toMatch(/^roster_cs_[A-Za-z0-9_-]{43}$/);
    expect(
      await verifyOidcAppSecret(database.db, acme.id, added.clientId, added.clientSecret ?? ''),
    ).toBe(true);
    const shown = await json(['app', 'show', 'acme', added.clientId]);
    expect(shown).toMatchObject({
      name: 'Wiki',
      redirectUris: ['https://wiki.example.com/callback', 'https://wiki.example.com/callback2'],
      postLogoutRedirectUris: ['https://wiki.example.com/'],
      backchannelLogoutUri: 'https://wiki.example.com/backchannel',
    });
  });

  it('add for a public app: secret null; the human output says a secret is shown once', async () => {
    const spa = await json<Credentials>([
      'app',
      'add',
      'acme',
      '--name',
      'SPA',
      '--public',
      '--redirect-uri',
      'http://localhost:5173/cb',
    ]);
    expect(spa.clientSecret).toBeNull();
    const human = await roster([
      'app',
      'add',
      'acme',
      '--name',
      'Dev app',
      '--redirect-uri',
      'http://app.example.test:3000/cb',
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Client ID: +app_/);
    expect(human.stdout).toMatch(/Client secret: +roster_cs_/);
    expect(human.stdout).toMatch(/shown once/);
    expect(human.stdout).toContain(`Issuer:         ${ISSUER}`);
    expect(human.stderr).toMatch(/warning: http:\/\/app\.example\.test:3000\/cb uses http/);
  });

  it('refuses bad input with the server’s message, storing nothing', async () => {
    const before = (await json<unknown[]>(['app', 'list', 'acme'])).length;
    const fragment = await roster([
      'app',
      'add',
      'acme',
      '--name',
      'Bad',
      '--redirect-uri',
      'https://a.example/cb#x',
    ]);
    expect(fragment.code).toBe(1);
    expect(fragment.stderr).toMatch(/400 .*redirectUris\[0\] must not contain a fragment/);
    const noUri = await roster(['app', 'add', 'acme', '--name', 'Bad']);
    expect(noUri.stderr).toMatch(/--redirect-uri/);
    const unknown = await roster(['app', 'show', 'acme', 'app_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 .*app_nope/);
    expect(await json<unknown[]>(['app', 'list', 'acme'])).toHaveLength(before);
  });

  it('lists, updates, rotates the secret and removes', async () => {
    const added = await json<Credentials>([
      'app',
      'add',
      'acme',
      '--name',
      'Tracker',
      '--redirect-uri',
      'https://tracker.example.com/cb',
    ]);
    const listed = await roster(['app', 'list', 'acme']);
    expect(listed.stdout).toMatch(/^Client ID {2,}Name {2,}Type {2,}Redirect URIs {2,}Created$/m);
    expect(listed.stdout).toContain(added.clientId);

    const updated = await json([
      'app',
      'update',
      'acme',
      added.clientId,
      '--name',
      'Tracker 2',
      '--redirect-uri',
      'https://tracker.example.com/cb2',
    ]);
    expect(updated).toMatchObject({
      name: 'Tracker 2',
      redirectUris: ['https://tracker.example.com/cb2'],
    });
    const nothing = await roster(['app', 'update', 'acme', added.clientId]);
    expect(nothing.stderr).toMatch(/nothing to change/);

    const rotated = await json<Credentials>(['app', 'rotate-secret', 'acme', added.clientId]);
    expect(Object.keys(rotated).sort()).toEqual(
      ['clientId', 'clientSecret', 'discoveryUrl', 'issuer'].sort(),
    );
    expect(rotated.clientSecret).not.toBe(added.clientSecret);
    expect(
      await verifyOidcAppSecret(database.db, acme.id, added.clientId, added.clientSecret ?? ''),
    ).toBe(false);

    const removed = await roster(['app', 'remove', 'acme', added.clientId]);
    expect(removed.stdout).toMatch(/Removed app Tracker 2/);
    expect((await roster(['app', 'show', 'acme', added.clientId])).code).toBe(1);
  });
});

describe('roster oidc', () => {
  it('rotate-keys moves the keys one step; keys lists them with their status', async () => {
    const none = await roster(['oidc', 'keys', 'acme']);
    expect(none.stdout).toMatch(/none yet/);
    const first = await json<{ current: string; next: string; retired: string[] }>([
      'oidc',
      'rotate-keys',
      'acme',
    ]);
    const human = await roster(['oidc', 'rotate-keys', 'acme']);
    expect(human.stdout).toContain(`signing now: ${first.next}`);
    const keys = await json<{ issuer: string; keys: { kid: string; status: string }[] }>([
      'oidc',
      'keys',
      'acme',
    ]);
    expect(keys.issuer).toBe(ISSUER);
    expect(keys.keys.map((key) => key.status)).toEqual(['current', 'next', 'retired', 'retired']);
    expect(keys.keys[0]?.kid).toBe(first.next);
    const table = await roster(['oidc', 'keys', 'acme']);
    expect(table.stdout).toMatch(/^Key ID {2,}Status {2,}Created {2,}Signing since {2,}Retired$/m);
  });
});
