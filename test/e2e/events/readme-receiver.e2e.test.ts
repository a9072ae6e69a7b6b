// The receiver the README shows ("Events and webhooks") works as written: taken from the README,
// run as its own process, it accepts what Roster's webhook worker sends it (the signature
// checked by the `standardwebhooks` package it imports) and refuses a request signed with
// another secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createTenant,
  createUserFromScim,
  createWebhook,
  deliverDueWebhooks,
  listWebhookAttempts,
  outboundPolicyFrom,
  systemClock,
  type ChangeContext,
  updateWebhook,
  type IssuedWebhook,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..', '..');
/** Inside the test workspace, so the snippet's imports resolve as an app's would. */
const scratch = join(here, '..', '..', '.cache', 'readme-receiver');
const operator: ChangeContext = { actor: { type: 'operator', id: 'readme-test' } };
const policy = outboundPolicyFrom('127.0.0.1');
const logger = createLogger({ level: 'silent' });

/** The first JavaScript block after the README's promise of a receiver in a few lines. */
async function readmeReceiver(): Promise<string> {
  const readme = await readFile(join(repositoryRoot, 'README.md'), 'utf8');
  const from = readme.indexOf('verifying with the `standardwebhooks` package:');
  expect(from, 'the README introduces its receiver').toBeGreaterThan(0);
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(block?.[1], 'the README shows its receiver').toBeDefined();
  return block?.[1] ?? '';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let database: TestDatabase;
let receiver: ChildProcess;
let output = '';
let port: number;
let issued: IssuedWebhook;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'readme-receiver', operator)).id;
  issued = await createWebhook(
    database.db,
    tenantId,
    { url: 'http://127.0.0.1:1/placeholder' },
    operator,
  );
  port = await freePort();
  await mkdir(scratch, { recursive: true });
  const file = join(scratch, `receiver-${process.pid}.mjs`);
  await writeFile(file, await readmeReceiver());
  receiver = spawn(process.execPath, [file], {
    env: { ...process.env, ROSTER_WEBHOOK_SECRET: issued.secret, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  receiver.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  receiver.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(async () => {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return true;
    } catch {
      return false;
    }
  }, 'the README receiver listens');
}, 60_000);

afterAll(async () => {
  receiver?.kill();
  await rm(scratch, { recursive: true, force: true });
  await database?.close();
});

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out: ${what}; receiver said: ${output}`);
}

describe("the README's webhook receiver", () => {
  it("accepts Roster's signed delivery and prints the event", async () => {
    await updateWebhook(
      database.db,
      tenantId,
      issued.webhook.id,
      { url: `http://127.0.0.1:${port}/roster-events` },
      operator,
    );
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'ada@readme.example' },
      operator,
      systemClock,
    );
    const round = await deliverDueWebhooks(database.db, { policy, logger });
    expect(round.sent).toBe(1);
    const [attempt] = await listWebhookAttempts(database.db, tenantId, issued.webhook.id);
    expect(attempt).toMatchObject({ eventType: 'user.created', status: 204, error: null });
    await waitUntil(() => Promise.resolve(output.includes(user.id)), 'the receiver prints it');
    expect(output).toContain(`${attempt?.eventId ?? 'no event'} user.created`);
  });

  it('refuses a request signed with another secret', async () => {
    const forger = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    const body = JSON.stringify({ id: 'evt_forged', type: 'user.deactivated', data: {} });
    const timestamp = new Date();
    const answer = await fetch(`http://127.0.0.1:${port}/roster-events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': forger.sign('evt_forged', timestamp, body),
      },
      body,
    });
    expect(answer.status).toBe(400);
    expect(output).not.toContain('evt_forged');
  });
});
