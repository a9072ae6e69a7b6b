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
  createUserFromScim,
  deleteUserFromScim,
  ensureAdminTokenFile,
  fixedClock,
  writeServerInfo,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';

// ---- the JSON the CLI prints with --json, as far as these tests read it ------------------------
interface TenantJson {
  id: string;
  slug: string;
  scimBaseUrl: string;
  gracePeriodDays: number;
  cleanupAfterDays: number | null;
  allowedOrigins: string[];
  updatedAt: string;
}
interface TokenJson {
  id: string;
  status: string;
  description: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}
interface IssuedTokenJson extends TokenJson {
  token: string;
  scimBaseUrl: string;
}
interface UserJson {
  id: string;
  userName: string;
  state: string;
}
interface AuditJson {
  action: string;
  actor: { type: string; id: string | null };
  target: { type: string | null; id: string | null };
  changes: Record<string, unknown> | null;
}

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const SCIM_BASE_URL = 'https://scim.roster.test';
const NOW = '2026-03-01T12:00:00.000Z';
const OPERATOR = 'cli-tester';
const TOKEN_FORMAT = /^roster_scim_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let database: TestDatabase;
let server: Server;
let adminUrl: string;
let adminToken: string;
/** The data folder of "the embedded server": server.json and admin-token, as `npm start` leaves them. */
let dataDir: string;
/** Where the CLI runs, and the empty data folder of "no server at all". */
let workDir: string;
let emptyDataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'roster-cli-data-'));
  workDir = await mkdtemp(path.join(tmpdir(), 'roster-cli-cwd-'));
  emptyDataDir = await mkdtemp(path.join(tmpdir(), 'roster-cli-empty-'));
  adminToken = (await ensureAdminTokenFile(dataDir)).token;
  const app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: fixedClock(NOW),
    lifecycle: createLifecycle(),
    adminToken,
    scimBaseUrl: SCIM_BASE_URL,
    ssoBaseUrl: 'https://sso.roster.test',
  });
  server = await listen(app, '127.0.0.1', 0);
  adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeServerInfo(dataDir, {
    pid: process.pid,
    adminUrl,
    scimBaseUrl: SCIM_BASE_URL,
    ssoBaseUrl: 'https://sso.roster.test',
    startedAt: new Date().toISOString(),
  });
});

afterAll(async () => {
  if (server) await closeGracefully(server, 2_000);
  await database?.close();
  for (const dir of [dataDir, workDir, emptyDataDir])
    if (dir) await rm(dir, { recursive: true, force: true });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process; nothing of the parent's ROSTER_* settings leaks in. */
function roster(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('ROSTER_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: workDir, env: { ...inherited, USER: OPERATOR, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** ROSTER_URL and ROSTER_ADMIN_TOKEN pointing at the test server. */
const withEnv = () => ({ ROSTER_URL: adminUrl, ROSTER_ADMIN_TOKEN: adminToken });

/** Runs a --json command that must succeed, and parses stdout (which must be only JSON). */
async function rosterJson<T>(
  args: readonly string[],
  env: Record<string, string> = withEnv(),
): Promise<T> {
  const result = await roster([...args, '--json'], env);
  expect(result, `roster ${args.join(' ')}: ${result.stderr}`).toMatchObject({
    code: 0,
    stderr: '',
  });
  return JSON.parse(result.stdout) as T;
}

async function seedTenant(slug: string) {
  return createTenant(database.db, slug, { actor: { type: 'system' } });
}
async function storedTenant(slug: string) {
  return database.db
    .selectFrom('tenants')
    .selectAll()
    .where('slug', '=', slug)
    .executeTakeFirstOrThrow();
}
async function tenantCount(): Promise<number> {
  const row = await database.db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('roster with ROSTER_URL and ROSTER_ADMIN_TOKEN', () => {
  it('tenant create --json prints only the new tenant as JSON, and the server has it', async () => {
    const result = await roster(['tenant', 'create', 'acme', '--json'], withEnv());
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const tenant = JSON.parse(result.stdout) as TenantJson;
    expect(tenant.id).toMatch(UUID);
    expect(tenant).toMatchObject({
      slug: 'acme',
      scimBaseUrl: `${SCIM_BASE_URL}/scim/v2/acme`,
      gracePeriodDays: 90,
      cleanupAfterDays: null,
    });
    expect((await storedTenant('acme')).id).toBe(tenant.id);
  });

  it('tenant create takes the settings options too', async () => {
    const tenant = await rosterJson<TenantJson>([
      'tenant',
      'create',
      'preset',
      '--grace-days',
      '14',
      '--cleanup-after-days',
      '60',
      '--allowed-origin',
      'https://Preset.Example/',
    ]);
    expect(tenant).toMatchObject({
      slug: 'preset',
      gracePeriodDays: 14,
      cleanupAfterDays: 60,
      allowedOrigins: ['https://preset.example'],
    });
  });

  it('tenant list --json prints every tenant; tenant show --json prints one', async () => {
    const seeded = await seedTenant('listed');
    const tenants = await rosterJson<TenantJson[]>(['tenant', 'list']);
    expect(tenants.map((t) => t.slug)).toContain('listed');
    expect(tenants.find((t) => t.slug === 'listed')?.id).toBe(seeded.id);

    const shown = await rosterJson<TenantJson>(['tenant', 'show', 'listed']);
    expect(shown).toMatchObject({
      id: seeded.id,
      slug: 'listed',
      scimBaseUrl: `${SCIM_BASE_URL}/scim/v2/listed`,
      gracePeriodDays: 90,
    });
  });

  it('tenant set --json changes grace days, turns cleanup off and replaces the allowed origins', async () => {
    await createTenant(
      database.db,
      'settable',
      { actor: { type: 'system' } },
      { cleanupAfterDays: 10, allowedOrigins: ['https://old.example'] },
    );
    const changed = await rosterJson<TenantJson>([
      'tenant',
      'set',
      'settable',
      '--grace-days',
      '30',
      '--cleanup-after-days',
      'off',
      '--allowed-origin',
      'https://a.example',
    ]);
    expect(changed).toMatchObject({
      slug: 'settable',
      gracePeriodDays: 30,
      cleanupAfterDays: null,
      allowedOrigins: ['https://a.example'],
    });
    const stored = await storedTenant('settable');
    expect(stored).toMatchObject({
      grace_period_days: 30,
      cleanup_after_days: null,
      allowed_origins: ['https://a.example'],
    });

    const twoOrigins = await rosterJson<TenantJson>([
      'tenant',
      'set',
      'settable',
      '--allowed-origin',
      'https://a.example/',
      '--allowed-origin',
      'http://b.example:8080',
      '--cleanup-after-days',
      '45',
    ]);
    expect(twoOrigins).toMatchObject({
      gracePeriodDays: 30,
      cleanupAfterDays: 45,
      allowedOrigins: ['https://a.example', 'http://b.example:8080'],
    });
  });

  it('token create --json --expires-in 90d prints id, token, scimBaseUrl and expiresAt', async () => {
    await seedTenant('tokened');
    const issued = await rosterJson<IssuedTokenJson>([
      'token',
      'create',
      'tokened',
      '--expires-in',
      '90d',
      '--description',
      'Okta',
    ]);
    expect(issued.id).toMatch(UUID);
    expect(issued.token).toMatch(TOKEN_FORMAT);
    expect(issued.token).toContain(issued.id.replaceAll('-', ''));
    expect(issued).toMatchObject({
      scimBaseUrl: `${SCIM_BASE_URL}/scim/v2/tokened`,
      expiresAt: '2026-05-30T12:00:00.000Z',
      description: 'Okta',
    });

    const weeks = await rosterJson<IssuedTokenJson>([
      'token',
      'create',
      'tokened',
      '--expires-in',
      '12w',
    ]);
    expect(weeks.expiresAt).toBe('2026-05-24T12:00:00.000Z');
    const forever = await rosterJson<IssuedTokenJson>(['token', 'create', 'tokened']);
    expect(forever.expiresAt).toBeNull();
  });

  it('token list --json shows the tokens without their secrets, and token revoke --json revokes one', async () => {
    await seedTenant('rotating');
    const first = await rosterJson<IssuedTokenJson>(['token', 'create', 'rotating']);
    const second = await rosterJson<IssuedTokenJson>(['token', 'create', 'rotating']);

    const listed = await roster(['token', 'list', 'rotating', '--json'], withEnv());
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(first.token);
    expect(listed.stdout).not.toContain(second.token);
    const tokens = JSON.parse(listed.stdout) as TokenJson[];
    expect(tokens.map((t) => [t.id, t.status]).sort()).toEqual(
      [
        [first.id, 'active'],
        [second.id, 'active'],
      ].sort(),
    );

    const revoked = await rosterJson<TokenJson>(['token', 'revoke', 'rotating', first.id]);
    expect(revoked).toMatchObject({ id: first.id, status: 'revoked', revokedAt: NOW });
    const after = await rosterJson<TokenJson[]>(['token', 'list', 'rotating']);
    expect(after.find((t) => t.id === first.id)?.status).toBe('revoked');
    expect(after.find((t) => t.id === second.id)?.status).toBe('active');
  });

  it('users list --json prints the users, honouring --limit, across several pages of the API', async () => {
    const tenant = await seedTenant('peopled');
    expect(await rosterJson<UserJson[]>(['users', 'list', 'peopled'])).toEqual([]);

    // More than one API page (1000): whole-millisecond, distinct creation times keep the order known.
    const start = Date.UTC(2026, 0, 1);
    await database.db
      .insertInto('users')
      .values(
        Array.from({ length: 1003 }, (_, i) => ({
          tenant_id: tenant.id,
          user_name: `user${String(i).padStart(4, '0')}@peopled.test`,
          user_name_key: `user${String(i).padStart(4, '0')}@peopled.test`,
          source: 'scim' as const,
          managed_by: 'scim' as const,
          created_at: new Date(start + i * 1000),
        })),
      )
      .execute();

    const two = await rosterJson<UserJson[]>(['users', 'list', 'peopled', '--limit', '2']);
    expect(two.map((u) => u.userName)).toEqual(['user0000@peopled.test', 'user0001@peopled.test']);
    expect(two[0]).toMatchObject({ state: 'active' });

    const defaultLimit = await rosterJson<UserJson[]>(['users', 'list', 'peopled']);
    expect(defaultLimit).toHaveLength(100);

    const all = await rosterJson<UserJson[]>(['users', 'list', 'peopled', '--limit', '5000']);
    expect(all).toHaveLength(1003);
    expect(new Set(all.map((u) => u.id)).size).toBe(1003);
    expect(all.at(-1)?.userName).toBe('user1002@peopled.test');
  });

  it('audit --json prints the trail with the operator, and --since leaves out older events', async () => {
    const tenant = await seedTenant('traced');
    await database.db
      .insertInto('audit_events')
      .values({
        tenant_id: tenant.id,
        actor_type: 'system',
        action: 'test.longAgo',
        occurred_at: new Date('2020-01-01T00:00:00Z'),
      })
      .execute();
    const issued = await rosterJson<IssuedTokenJson>(['token', 'create', 'traced']);
    await rosterJson<TenantJson>(['tenant', 'set', 'traced', '--grace-days', '5']);

    const events = await rosterJson<AuditJson[]>(['audit', 'traced']);
    expect(events.map((e) => e.action)).toEqual([
      'test.longAgo',
      'tenant.created',
      'scim_token.created',
      'tenant.settings_changed',
    ]);
    expect(events[2]).toMatchObject({
      actor: { type: 'operator', id: OPERATOR },
      target: { type: 'scim_token', id: issued.id },
    });
    expect(events[3]).toMatchObject({
      actor: { type: 'operator', id: OPERATOR },
      changes: { gracePeriodDays: { before: 90, after: 5 } },
    });

    const recent = await rosterJson<AuditJson[]>(['audit', 'traced', '--since', '1h']);
    expect(recent.map((e) => e.action)).toEqual([
      'tenant.created',
      'scim_token.created',
      'tenant.settings_changed',
    ]);
    expect(
      await rosterJson<AuditJson[]>(['audit', 'traced', '--since', '2999-01-01T00:00:00Z']),
    ).toEqual([]);
    const aboutToken = await rosterJson<AuditJson[]>(['audit', 'traced', '--user', issued.id]);
    expect(aboutToken.map((e) => e.action)).toEqual(['scim_token.created']);
    expect(
      (await rosterJson<AuditJson[]>(['audit', 'traced', '--limit', '1'])).map((e) => e.action),
    ).toEqual(['tenant.settings_changed']);
  });
});

describe('roster human output', () => {
  it('tenant create says what was created and what to do next', async () => {
    const result = await roster(['tenant', 'create', 'humane'], withEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Created tenant humane.');
    expect(result.stdout).toContain(`SCIM base URL: ${SCIM_BASE_URL}/scim/v2/humane`);
    expect(result.stdout).toContain('roster token create humane');
  });

  it('token create shows the token, its id and expiry once', async () => {
    await seedTenant('human-token');
    const result = await roster(
      ['token', 'create', 'human-token', '--expires-in', '30d'],
      withEnv(),
    );
    expect(result.code).toBe(0);
    const token = /Token:\s+(\S+)/.exec(result.stdout)?.[1] ?? '';
    expect(token).toMatch(TOKEN_FORMAT);
    expect(result.stdout).toContain(`SCIM base URL: ${SCIM_BASE_URL}/scim/v2/human-token`);
    expect(result.stdout).toContain('Expires:       2026-03-31T12:00:00.000Z');
    const [stored] = await rosterJson<TokenJson[]>(['token', 'list', 'human-token']);
    expect(result.stdout).toContain(`Token id:      ${stored?.id ?? 'missing'}`);
  });

  it('tenant show prints the settings as fields, tenant list and token list as tables', async () => {
    const tenant = await createTenant(
      database.db,
      'tabled',
      { actor: { type: 'system' } },
      { gracePeriodDays: 21, allowedOrigins: ['https://t.example'] },
    );
    const shown = await roster(['tenant', 'show', 'tabled'], withEnv());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^ID\s+[0-9a-f-]{36}$/m);
    expect(shown.stdout).toContain(tenant.id);
    expect(shown.stdout).toMatch(/^Slug\s+tabled$/m);
    expect(shown.stdout).toMatch(/^Grace period \(days\)\s+21$/m);
    expect(shown.stdout).toMatch(/^Cleanup after \(days\)\s+-$/m);
    expect(shown.stdout).toMatch(/^Allowed origins\s+https:\/\/t\.example$/m);

    const listed = await roster(['tenant', 'list'], withEnv());
    expect(listed.stdout.split('\n')[0]).toMatch(
      /^Slug {2,}ID {2,}Grace period \(days\) {2,}Cleanup after \(days\) {2,}SCIM base URL$/,
    );
    expect(listed.stdout).toMatch(
      new RegExp(`^tabled\\s+${tenant.id}\\s+21\\s+-\\s+${SCIM_BASE_URL}/scim/v2/tabled$`, 'm'),
    );

    const noTokens = await roster(['token', 'list', 'tabled'], withEnv());
    expect(noTokens.stdout).toBe('(none)\n');
  });

  it('audit prints one line per event with the actor, action and target', async () => {
    const tenant = await seedTenant('human-audit');
    await roster(['tenant', 'set', 'human-audit', '--grace-days', '3'], withEnv());
    const result = await roster(['audit', 'human-audit'], withEnv());
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^When {2,}Actor {2,}Action {2,}Target {2,}Request ID$/);
    // The system has no id: shown as "system:" or "system:-".
    expect(lines[1]).toMatch(
      new RegExp(`^\\S+Z\\s+system:-?\\s+tenant\\.created\\s+${tenant.id}\\s+-$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^\\S+Z\\s+operator:${OPERATOR}\\s+tenant\\.settings_changed\\s+${tenant.id}\\s+\\S+$`,
      ),
    );
  });
});

describe('roster failures', () => {
  it('when the admin token is wrong then it exits non-zero with the 401 on stderr and nothing on stdout', async () => {
    const result = await roster(['tenant', 'list', '--json'], {
      ROSTER_URL: adminUrl,
      ROSTER_ADMIN_TOKEN: 'not-the-token',
    });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('401');
    expect(result.stderr).toContain('the admin token is not valid');
  });

  it('when the tenant already exists then it exits 1 with the 409 on stderr', async () => {
    await seedTenant('twice');
    const before = await tenantCount();
    const result = await roster(['tenant', 'create', 'twice', '--json'], withEnv());
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('409');
    expect(result.stderr).toContain('tenant "twice" already exists');
    expect(await tenantCount()).toBe(before);
  });

  it('when the tenant does not exist then it exits 1 with the 404 on stderr', async () => {
    const result = await roster(['tenant', 'show', 'nowhere'], withEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('404');
    expect(result.stderr).toContain('tenant "nowhere" does not exist');
  });

  it('when the server refuses a value then it exits 1 with the 400 reason', async () => {
    await seedTenant('picky');
    const result = await roster(
      ['tenant', 'set', 'picky', '--allowed-origin', 'ftp://files.example'],
      withEnv(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('400');
    expect(result.stderr).toContain('ftp://files.example');
    expect((await storedTenant('picky')).allowed_origins).toEqual([]);
  });

  it('when an argument is not valid then it exits non-zero and sends nothing', async () => {
    await seedTenant('untouched');
    const before = await storedTenant('untouched');
    const badGrace = await roster(['tenant', 'set', 'untouched', '--grace-days', 'x'], withEnv());
    expect(badGrace.code).not.toBe(0);
    expect(badGrace.stderr).toContain('--grace-days');
    expect(badGrace.stderr).toContain('expected a whole number from 0 to 3650');
    expect(badGrace.stdout).toBe('');

    const badCleanup = await roster(
      ['tenant', 'set', 'untouched', '--cleanup-after-days', '0'],
      withEnv(),
    );
    expect(badCleanup.code).not.toBe(0);
    const badLifetime = await roster(
      ['token', 'create', 'untouched', '--expires-in', '90'],
      withEnv(),
    );
    expect(badLifetime.code).not.toBe(0);
    expect(badLifetime.stderr).toContain('expected a duration like 90d or 12w');

    expect(await storedTenant('untouched')).toEqual(before);
    const tokens = await database.db
      .selectFrom('scim_tokens')
      .select('id')
      .where('tenant_id', '=', before.id)
      .execute();
    expect(tokens).toEqual([]);
  });

  it('when tenant set is given nothing to change then it exits 1 and says so', async () => {
    await seedTenant('nothing-to-do');
    const result = await roster(['tenant', 'set', 'nothing-to-do'], withEnv());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing to change');
  });
});

describe('finding the server without configuration', () => {
  it('with only ROSTER_DATA_DIR it reads server.json and the admin-token file, and works', async () => {
    await seedTenant('discovered');
    const tenants = await rosterJson<TenantJson[]>(['tenant', 'list'], {
      ROSTER_DATA_DIR: dataDir,
    });
    expect(tenants.map((t) => t.slug)).toContain('discovered');

    const created = await rosterJson<TenantJson>(['tenant', 'create', 'via-discovery'], {
      ROSTER_DATA_DIR: dataDir,
    });
    expect(created.slug).toBe('via-discovery');
    expect((await storedTenant('via-discovery')).id).toBe(created.id);
  });

  it('with ROSTER_URL but no ROSTER_ADMIN_TOKEN it takes the token from the data folder', async () => {
    const tenants = await rosterJson<TenantJson[]>(['tenant', 'list'], {
      ROSTER_URL: `${adminUrl}/`,
      ROSTER_DATA_DIR: dataDir,
    });
    expect(tenants.length).toBeGreaterThan(0);
  });

  it('when no server runs from the data folder and nothing is set then it exits 1 saying no server was found', async () => {
    const result = await roster(['tenant', 'list', '--json'], { ROSTER_DATA_DIR: emptyDataDir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no Roster server found');
    expect(result.stderr).toContain(emptyDataDir);

    // No ROSTER_DATA_DIR at all: the default ./.roster of the working folder, which is empty too.
    const byDefault = await roster(['tenant', 'list']);
    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toContain('no Roster server found');
    expect(byDefault.stderr).toContain(path.join(workDir, '.roster'));
  });

  it('when server.json names a server that is gone then it exits 1 saying it cannot reach it', async () => {
    const staleDir = await mkdtemp(path.join(tmpdir(), 'roster-cli-stale-'));
    try {
      const gone = await listen(
        createAdminApp({
          database,
          logger: createLogger({ level: 'silent' }),
          clock: fixedClock(NOW),
          lifecycle: createLifecycle(),
          adminToken,
          scimBaseUrl: SCIM_BASE_URL,
          ssoBaseUrl: 'https://sso.roster.test',
        }),
        '127.0.0.1',
        0,
      );
      const goneUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
      await closeGracefully(gone, 1_000);
      await writeServerInfo(staleDir, {
        pid: 1,
        adminUrl: goneUrl,
        scimBaseUrl: SCIM_BASE_URL,
        ssoBaseUrl: 'https://sso.roster.test',
        startedAt: NOW,
      });
      await ensureAdminTokenFile(staleDir);

      const result = await roster(['tenant', 'list'], { ROSTER_DATA_DIR: staleDir });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`cannot reach the Roster admin API at ${goneUrl}`);
    } finally {
      await rm(staleDir, { recursive: true, force: true });
    }
  });
});

describe('roster purge and roster explain', () => {
  const longAgo = fixedClock('2025-01-01T00:00:00Z');
  const ctx = { actor: { type: 'scim_token' as const, id: 'tok' } };

  it('purge --dry-run counts, purge removes, and both say so', async () => {
    const tenant = await seedTenant('purgeable');
    for (const name of ['a', 'b', 'c']) {
      const { user } = await createUserFromScim(
        database.db,
        tenant.id,
        { userName: `${name}@purge.test` },
        ctx,
        longAgo,
      );
      await deleteUserFromScim(database.db, tenant.id, user.id, ctx, longAgo);
    }
    const dry = await rosterJson<{ purged: number; dryRun: boolean }>([
      'purge',
      '--tenant',
      'purgeable',
      '--dry-run',
    ]);
    expect(dry).toMatchObject({ purged: 3, dryRun: true });
    const human = await roster(['purge', '--tenant', 'purgeable'], withEnv());
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toContain('Purged 3 user(s)');
    expect(
      await database.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .execute(),
    ).toEqual([]);
    expect(await rosterJson<{ purged: number }>(['purge', '--tenant', 'purgeable'])).toMatchObject({
      purged: 0,
    });
  });

  it('explain says which user would match, by which key, and what would happen', async () => {
    const tenant = await seedTenant('explained');
    await database.db
      .insertInto('saml_idps')
      .values({
        tenant_id: tenant.id,
        name: 'okta',
        entity_id: 'https://okta.test',
        sso_url: 'https://okta.test/sso',
        signing_certificates: ['x'],
        jit_policy: 'deny',
      })
      .execute();
    await createUserFromScim(
      database.db,
      tenant.id,
      { userName: 'ann@explain.test' },
      ctx,
      longAgo,
    );
    const match = await rosterJson<{
      outcome: string;
      matchedBy: string;
      user: { userName: string };
    }>(['explain', 'explained', '--idp', 'okta', '--name-id', 'ANN@explain.test']);
    expect(match).toMatchObject({
      outcome: 'sign_in',
      matchedBy: 'userName',
      user: { userName: 'ann@explain.test' },
    });
    const refused = await roster(
      [
        'explain',
        'explained',
        '--idp',
        'okta',
        '--name-id',
        'nobody@explain.test',
        '--attr',
        'displayName=No One',
      ],
      withEnv(),
    );
    expect(refused).toMatchObject({ code: 0, stderr: '' });
    expect(refused.stdout).toContain('would refuse: not_provisioned');
    const bad = await roster(
      ['explain', 'explained', '--idp', 'okta', '--name-id', 'x', '--attr', 'novalue'],
      withEnv(),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--attr takes key=value');
    expect(
      await database.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .execute(),
    ).toHaveLength(1);
  });
});
