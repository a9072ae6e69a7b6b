// `roster idp …` end to end: the built CLI in a child process against a real admin API.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '@roster/admin';
import { createLogger, createTenant, systemClock } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';
import { createTestKeyPair, TestIdp } from '@roster/sso/testing';

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const ADMIN_TOKEN = 'roster_admin_test-token-for-idp-commands';
const SSO = 'https://sso.roster.test';
let database: TestDatabase;
let server: Server;
let env: Record<string, string>;
let workDir: string;
let idp: TestIdp;

beforeAll(async () => {
  database = await createTestDatabase();
  workDir = await mkdtemp(path.join(tmpdir(), 'roster-idp-cli-'));
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
  await createTenant(database.db, 'acme', { actor: { type: 'system' } });
  idp = await TestIdp.create({ entityId: 'https://sts.windows.net/t-1/' });
  await writeFile(path.join(workDir, 'entra.xml'), idp.metadataXml());
  await writeFile(
    path.join(workDir, 'bad.xml'),
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>',
  );
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
      { cwd: workDir, env: { ...inherited, USER: 'idp-tester', ...env }, timeout: 20_000 },
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

describe('roster idp', () => {
  it('add --json prints exactly the SP values an IdP admin needs', async () => {
    const added = await json([
      'idp',
      'add',
      'acme',
      '--metadata',
      'entra.xml',
      '--preset',
      'entra',
      '--map',
      'userName=upn',
    ]);
    expect(Object.keys(added).sort()).toEqual(
      [
        'acsUrl',
        'entityId',
        'id',
        'loginUrl',
        'logoutUrl',
        'metadataUrl',
        'name',
        'whoamiUrl',
      ].sort(),
    );
    expect(added).toMatchObject({
      name: 'entra',
      acsUrl: `${SSO}/saml/acme/${String(added.id)}/acs`,
      entityId: `${SSO}/saml/acme/${String(added.id)}/metadata`,
      whoamiUrl: `${SSO}/saml/acme/whoami`,
    });
  });

  it('refuses bad metadata with the server’s message, storing nothing', async () => {
    const result = await roster(['idp', 'add', 'acme', '--metadata', 'bad.xml', '--name', 'bad']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/400 IdP metadata: no IDPSSODescriptor/);
    const missing = await roster(['idp', 'add', 'acme', '--metadata', 'nowhere.xml']);
    expect(missing.stderr).toMatch(/cannot read the metadata file nowhere.xml/);
    const badMap = await roster([
      'idp',
      'add',
      'acme',
      '--metadata',
      'entra.xml',
      '--map',
      'shoe=size',
    ]);
    expect(badMap.stderr).toMatch(/unknown field "shoe"/);
    expect(await json<unknown[]>(['idp', 'list', 'acme'])).toHaveLength(1);
  });

  it('lists and shows, in tables and as JSON', async () => {
    const listed = await roster(['idp', 'list', 'acme']);
    expect(listed.stdout).toMatch(
      /^Name {2,}ID {2,}IdP entity ID {2,}JIT policy {2,}Match by {2,}IdP-initiated sign-in$/m,
    );
    expect(listed.stdout).toContain('https://sts.windows.net/t-1/');
    const shown = await roster(['idp', 'show', 'acme', 'entra']);
    expect(shown.stdout).toMatch(/ACS URL\s+https:\/\/sso\.roster\.test\/saml\/acme\/.+\/acs/);
    expect(shown.stdout).toMatch(/Response signature\s+assertion signature suffices/);
    expect((await json(['idp', 'show', 'acme', 'entra'])).jitPolicy).toBe('create');
  });

  it('update --metadata rotates the certificates; settings change; remove ends it', async () => {
    const next = await createTestKeyPair('test-idp-next');
    await writeFile(
      path.join(workDir, 'rotated.xml'),
      idp.metadataXml({ extraCertificates: [next.certificate] }),
    );
    const updated = await json<{
      idp: { signingCertificates: unknown[] };
      allowIdpInitiated: boolean;
      jitPolicy: string;
    }>([
      'idp',
      'update',
      'acme',
      'entra',
      '--metadata',
      'rotated.xml',
      '--allow-idp-initiated',
      '--jit',
      'deny',
    ]);
    expect(updated.idp.signingCertificates).toHaveLength(2);
    expect(updated).toMatchObject({ allowIdpInitiated: true, jitPolicy: 'deny' });
    const off = await json([
      'idp',
      'update',
      'acme',
      'entra',
      '--no-allow-idp-initiated',
      '--no-groups-attribute',
    ]);
    expect(off).toMatchObject({ allowIdpInitiated: false, groupsAttribute: null });
    const nothing = await roster(['idp', 'update', 'acme', 'entra']);
    expect(nothing.stderr).toMatch(/nothing to change/);
    const removed = await roster(['idp', 'remove', 'acme', 'entra']);
    expect(removed.stdout).toMatch(/Removed IdP entra/);
    expect(await json<unknown[]>(['idp', 'list', 'acme'])).toEqual([]);
  });
});
