// `roster webhook …` and `roster events-token …` end to end: the built CLI in a child process
// against a real admin API and database.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminApp } from '@roster/admin';
import {
  createLogger,
  createTenant,
  createUserFromScim,
  eventId,
  getWebhook,
  outboundPolicyFrom,
  systemClock,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle, listen } from '@roster/http';

const BIN = fileURLToPath(new URL('../bin/roster.js', import.meta.url));
const ADMIN_TOKEN = 'roster_admin_test-token-for-webhook-commands';
const SECRET_FORMAT = /^whsec_[A-Za-z0-9+/]{43}=$/;
const EVENTS_TOKEN_FORMAT = /^roster_events_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
let database: TestDatabase;
let server: Server;
/** A webhook receiver: answers each request with the next of `answers` (then 200). */
let receiver: Server;
let receiverUrl: string;
const answers: number[] = [];
let env: Record<string, string>;
let acme: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  const adminApp = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: 'https://scim.roster.test',
    ssoBaseUrl: 'https://sso.roster.test',
    outboundPolicy: outboundPolicyFrom('127.0.0.1'),
  });
  server = await listen(adminApp, '127.0.0.1', 0);
  env = {
    ROSTER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ROSTER_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answers.shift() ?? 200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  acme = await createTenant(database.db, 'acme', { actor: { type: 'system' } });
  await createUserFromScim(
    database.db,
    acme.id,
    { userName: 'ann@acme.test' },
    { actor: { type: 'scim_token', id: 'test' } },
    systemClock,
  );
});

afterAll(async () => {
  if (server) await closeGracefully(server, 2_000);
  if (receiver) await closeGracefully(receiver, 2_000);
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

/** GET /v1/tenants/acme/events with a bearer token, as an app would. */
const readEvents = (token: string) =>
  fetch(`${env.ROSTER_URL}/v1/tenants/acme/events`, {
    headers: { authorization: `Bearer ${token}` },
  });

interface Issued {
  id: string;
  url: string;
  secret: string;
}

describe('roster webhook', () => {
  it('add --json prints exactly the id, URL and secret; list and show never the secret', async () => {
    const added = await json<Issued>([
      'webhook',
      'add',
      'acme',
      '--url',
      'https://billing.example.com/roster',
      '--events',
      'user.*,group.created',
    ]);
    expect(Object.keys(added).sort()).toEqual(['id', 'secret', 'url']);
    expect(added.secret).toMatch(SECRET_FORMAT);
    expect(added.url).toBe('https://billing.example.com/roster');
    const stored = await getWebhook(database.db, acme.id, added.id);
    expect(stored.events).toContain('user.deactivated');
    expect(stored.events).toContain('group.created');
    expect(stored.events).not.toContain('group.deleted');

    const listed = await json<{ id: string }[]>(['webhook', 'list', 'acme']);
    expect(listed.map((w) => w.id)).toContain(added.id);
    const shown = await json(['webhook', 'show', 'acme', added.id]);
    expect(shown).toMatchObject({ id: added.id, format: 'standard', state: 'enabled' });
    expect(JSON.stringify([listed, shown])).not.toContain('whsec_');
  });

  it('add without --json shows the secret once with a warning; list and show are readable', async () => {
    const result = await roster([
      'webhook',
      'add',
      'acme',
      '--url',
      'https://siem.example.com/set',
      '--format',
      'scim-events',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Signing secret: +whsec_/);
    expect(result.stdout).toContain('shown only now');
    expect(result.stdout).toContain('every type, format scim-events');
    const list = await roster(['webhook', 'list', 'acme']);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +Url +Events +Format +State/);
    expect(list.stdout).toContain('https://siem.example.com/set');
    const id = /Webhook ID: +(\S+)/.exec(result.stdout)?.[1] ?? '';
    const show = await roster(['webhook', 'show', 'acme', id]);
    expect(show.stdout).toMatch(/Events +every type/);
    expect(show.stdout).toMatch(/Format +scim-events/);
  });

  it('update, rotate-secret, disable, enable, replay and remove', async () => {
    const { id, secret } = await json<Issued>([
      'webhook',
      'add',
      'acme',
      '--url',
      'https://a.example.com/hook',
    ]);
    const updated = await json([
      'webhook',
      'update',
      'acme',
      id,
      '--url',
      'https://b.example.com/hook',
      '--events',
      'group.*',
    ]);
    expect(updated).toMatchObject({ url: 'https://b.example.com/hook' });
    expect(updated.events).toContain('group.members_added');

    const rotated = await json<Issued & { previousSecretExpiresAt: string | null }>([
      'webhook',
      'rotate-secret',
      'acme',
      id,
      '--overlap',
      '2h',
    ]);
    expect(rotated.secret).toMatch(SECRET_FORMAT);
    expect(rotated.secret).not.toBe(secret);
    const overlap = Date.parse(rotated.previousSecretExpiresAt ?? '') - Date.now();
    expect(overlap).toBeGreaterThan(3_600_000);
    expect(overlap).toBeLessThanOrEqual(7_200_000);
    const plain = await roster(['webhook', 'rotate-secret', 'acme', id, '--overlap', '0']);
    expect(plain.stdout).toContain('The old one no longer signs');
    expect(plain.stdout).toContain('shown only now');

    const disabled = await roster(['webhook', 'disable', 'acme', id]);
    expect(disabled.stdout).toBe(`Webhook ${id} is disabled.\n`);
    expect((await getWebhook(database.db, acme.id, id)).disabledReason).toBe('operator');
    const replay = await roster(['webhook', 'replay', 'acme', id, '--since', eventId(acme.id, 1)]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('once it is enabled');
    expect((await getWebhook(database.db, acme.id, id)).deliveredSeq).toBe(0);
    expect((await json(['webhook', 'enable', 'acme', id])).state).toBe('enabled');
    const byTime = await roster(['webhook', 'replay', 'acme', id, '--since', '24h']);
    expect(byTime.code, byTime.stderr).toBe(0);

    const removed = await roster(['webhook', 'remove', 'acme', id]);
    expect(removed.stdout).toBe(`Removed webhook ${id} (https://b.example.com/hook).\n`);
    const again = await roster(['webhook', 'remove', 'acme', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('does not exist');
  });

  it('test pings the receiver: exit 0 when it accepts, 1 when it does not; deliveries lists both', async () => {
    const { id } = await json<Issued>(['webhook', 'add', 'acme', '--url', receiverUrl]);
    answers.push(204, 503);
    const accepted = await roster(['webhook', 'test', 'acme', id]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/^Ping ping_[0-9a-f]+: HTTP 204 in \d+ ms\n$/);
    const refused = await roster(['webhook', 'test', 'acme', id, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ eventType: 'ping', status: 503 });
    expect(refused.stderr).toContain('did not accept the ping');
    const log = await json<{ status: number }[]>(['webhook', 'deliveries', 'acme', id]);
    expect(log.map((attempt) => attempt.status)).toEqual([503, 204]);
    const table = await roster(['webhook', 'deliveries', 'acme', id, '--limit', '1']);
    expect(table.stdout.split('\n')).toHaveLength(3);
    expect(table.stdout).toContain('503');
  });

  it('deliveries lists the log (empty for a new webhook)', async () => {
    const { id } = await json<Issued>([
      'webhook',
      'add',
      'acme',
      '--url',
      'https://c.example.com/',
    ]);
    expect(await json(['webhook', 'deliveries', 'acme', id, '--limit', '10'])).toEqual([]);
    const none = await roster(['webhook', 'deliveries', 'acme', id]);
    expect(none.stdout).toBe('(none)\n');
  });

  it('refuses bad arguments with a clear error, and adds nothing', async () => {
    const before = await json<unknown[]>(['webhook', 'list', 'acme']);
    const cases: [string[], string][] = [
      [['webhook', 'add', 'acme'], '--url'],
      [['webhook', 'add', 'acme', '--url', 'ftp://x.example.com/'], 'url'],
      [
        ['webhook', 'add', 'acme', '--url', 'https://x.example.com/', '--events', 'user.nope'],
        'user.nope',
      ],
      [
        ['webhook', 'add', 'acme', '--url', 'https://x.example.com/', '--events', ','],
        'event types',
      ],
      [['webhook', 'add', 'acme', '--url', 'https://x.example.com/', '--format', 'xml'], 'format'],
      [['webhook', 'add', 'acme', '--url', 'https://10.0.0.1/'], 'ROSTER_OUTBOUND_ALLOW_HOSTS'],
      [['webhook', 'add', 'initech', '--url', 'https://x.example.com/'], '404'],
      [['webhook', 'update', 'acme', '00000000-0000-4000-8000-000000000000'], 'nothing to change'],
      [['webhook', 'rotate-secret', 'acme', 'x', '--overlap', 'soon'], '24h'],
      [['webhook', 'replay', 'acme', 'x', '--since', 'yesterday'], 'RFC 3339'],
      [['webhook', 'deliveries', 'acme', 'x', '--limit', '0'], 'whole number'],
      [['webhook', 'show', 'acme', 'nope'], 'does not exist'],
    ];
    for (const [args, says] of cases) {
      const result = await roster(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr, args.join(' ')).toContain(says);
    }
    expect(await json<unknown[]>(['webhook', 'list', 'acme'])).toHaveLength(before.length);
  });
});

describe('roster events-token', () => {
  it('create --json prints exactly the id and the token, which reads the events API', async () => {
    const issued = await json<{ id: string; token: string }>([
      'events-token',
      'create',
      'acme',
      '--description',
      'billing',
    ]);
    expect(Object.keys(issued).sort()).toEqual(['id', 'token']);
    expect(issued.token).toMatch(EVENTS_TOKEN_FORMAT);
    const events = await readEvents(issued.token);
    expect(events.status).toBe(200);
    expect(((await events.json()) as { events: unknown[] }).events[0]).toMatchObject({
      id: eventId(acme.id, 1),
      type: 'user.created',
    });

    const listed = await json<{ id: string; status: string; description: string }[]>([
      'events-token',
      'list',
      'acme',
    ]);
    expect(listed).toContainEqual(
      expect.objectContaining({ id: issued.id, status: 'active', description: 'billing' }),
    );
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    const revoked = await roster(['events-token', 'revoke', 'acme', issued.id]);
    expect(revoked.stdout).toBe(`Revoked events token ${issued.id}.\n`);
    expect((await readEvents(issued.token)).status).toBe(401);
  });

  it('create without --json shows the token once and where it reads; list is a table', async () => {
    const result = await roster(['events-token', 'create', 'acme', '--expires-in', '90d']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Token: +roster_events_/);
    expect(result.stdout).toContain('GET /v1/tenants/acme/events');
    expect(result.stdout).toContain('shown only now');
    const list = await roster(['events-token', 'list', 'acme']);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +Status +Created +Expires +Last used/);
  });

  it('refuses an unknown tenant, a bad lifetime and an unknown token id', async () => {
    for (const [args, says] of [
      [['events-token', 'create', 'initech'], '404'],
      [['events-token', 'create', 'acme', '--expires-in', 'soon'], '90d'],
      [['events-token', 'revoke', 'acme', 'nope'], 'does not exist'],
    ] as const) {
      const result = await roster(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toContain(says);
    }
  });
});
