// /v1/tenants/:slug/webhooks…: add, list, show, update, rotate the secret, disable and enable,
// replay, the delivery log and remove; every bad input a 4xx that writes nothing.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createTenant,
  createUserFromScim,
  encodeChangeCursor,
  eventId,
  latestChangeSeq,
  MAX_WEBHOOK_URL_LENGTH,
  outboundPolicyFrom,
  systemClock,
  type ChangeContext,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const ADMIN_TOKEN = 'roster_admin_test-token-for-the-webhook-routes';
const SECRET_FORMAT = /^whsec_[A-Za-z0-9+/]{43}=$/;
const HOUR = 3_600_000;
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'test' } };
let database: TestDatabase;
let app: Express;
/** The same admin API with ROSTER_OUTBOUND_ALLOW_HOSTS=127.0.0.1, for the receiver below. */
let allowingApp: Express;
/** A webhook receiver: answers each request with the next of `answers` (then 200). */
let receiver: Server;
let receiverUrl: string;
const answers: number[] = [];
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  const adminApp = (allowHosts?: string) =>
    createAdminApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
      lifecycle: createLifecycle(),
      adminToken: ADMIN_TOKEN,
      scimBaseUrl: 'https://scim.roster.test',
      ssoBaseUrl: 'https://sso.roster.test',
      ...(allowHosts ? { outboundPolicy: outboundPolicyFrom(allowHosts) } : {}),
    });
  app = adminApp();
  allowingApp = adminApp('127.0.0.1');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  acme = await createTenant(database.db, 'acme', { actor: { type: 'system' } });
  globex = await createTenant(database.db, 'globex', { actor: { type: 'system' } });
  for (const name of ['ann', 'bob', 'cy'])
    await createUserFromScim(
      database.db,
      acme.id,
      { userName: `${name}@acme.test` },
      scim,
      systemClock,
    );
});
afterAll(async () => {
  if (receiver) await closeGracefully(receiver, 2_000);
  await database.close();
});

function call(
  method: 'get' | 'post' | 'patch' | 'delete',
  path: string,
  body?: object,
  through: Express = app,
) {
  const test = request(through)[method](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  return body === undefined ? test : test.send(body);
}

/** Rows in webhook_endpoints and audit events: what "nothing written" is checked against. */
async function written(): Promise<[number, number, string]> {
  const count = async (table: 'webhook_endpoints' | 'audit_events') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const latest = await database.db
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.max('updated_at').as('at'))
    .executeTakeFirst();
  return [await count('webhook_endpoints'), await count('audit_events'), String(latest?.at ?? '')];
}

async function add(body: object = { url: 'https://billing.example.com/roster' }) {
  const res = await call('post', '/v1/tenants/acme/webhooks', body);
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; secret: string } & Record<string, unknown>;
}

async function auditActions(): Promise<string[]> {
  const res = await call('get', '/v1/tenants/acme/audit');
  return (res.body.events as { action: string }[]).map((event) => event.action);
}

describe('/v1/tenants/:slug/webhooks', () => {
  it('adds a webhook, shows its secret once, and starts it at the latest event', async () => {
    const res = await call('post', '/v1/tenants/acme/webhooks', {
      url: 'https://billing.example.com/roster',
      events: ['user.*', 'group.created'],
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    expect(res.headers.location).toBe(`/v1/tenants/acme/webhooks/${id}`);
    expect(res.body.secret).toMatch(SECRET_FORMAT);
    expect(res.body).toMatchObject({
      url: 'https://billing.example.com/roster',
      format: 'standard',
      state: 'enabled',
      disabledReason: null,
      deliveredThrough: encodeChangeCursor(acme.id, await latestChangeSeq(database.db, acme.id)),
      lastDeliveredAt: null,
      failingSince: null,
      previousSecretExpiresAt: null,
    });
    expect(res.body.events).toEqual(expect.arrayContaining(['user.created', 'group.created']));
    expect(res.body.events).not.toContain('group.deleted');

    const shown = await call('get', `/v1/tenants/acme/webhooks/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).not.toHaveProperty('secret');
    const { secret: _secret, ...withoutSecret } = res.body as Record<string, unknown>;
    expect(shown.body).toEqual(withoutSecret);
    const listed = await call('get', '/v1/tenants/acme/webhooks');
    expect((listed.body.webhooks as { id: string }[]).map((w) => w.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    expect(await auditActions()).toContain('webhook.created');
  });

  it('takes every type when events is left out, and the scim-events format', async () => {
    const added = await add({ url: 'https://siem.example.com/set', format: 'scim-events' });
    expect(added).toMatchObject({ events: [], format: 'scim-events' });
  });

  it.each([
    [{}, 'url'],
    [{ url: 'ftp://files.example.com/' }, 'url'],
    [{ url: 'https://user:pass@example.com/' }, 'password'],
    [{ url: 'https://example.com/#frag' }, 'fragment'],
    [{ url: `https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}` }, 'url'],
    [{ url: 'https://127.0.0.1/hook' }, 'ROSTER_OUTBOUND_ALLOW_HOSTS'],
    [{ url: 'https://169.254.169.254/latest' }, 'ROSTER_OUTBOUND_ALLOW_HOSTS'],
    [{ url: 'https://example.com/', events: ['user.nope'] }, 'user.nope'],
    [{ url: 'https://example.com/', events: 'user.*' }, 'events'],
    [{ url: 'https://example.com/', format: 'xml' }, 'format'],
    [{ url: 'https://example.com/', secret: 'whsec_mine' }, 'secret'],
    [{ url: 42 }, 'url'],
  ])('add %j is 400 naming %s and writes nothing', async (body, named) => {
    const before = await written();
    const res = await call('post', '/v1/tenants/acme/webhooks', body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.message).toContain(named);
    expect(await written()).toEqual(before);
  });

  it('an unknown tenant is 404 and writes nothing', async () => {
    const before = await written();
    const res = await call('post', '/v1/tenants/initech/webhooks', { url: 'https://example.com/' });
    expect(res.status).toBe(404);
    expect((await call('get', '/v1/tenants/initech/webhooks')).status).toBe(404);
    expect(await written()).toEqual(before);
  });

  it("a webhook id that does not exist, is malformed or is another tenant's is 404 on every route", async () => {
    const { id } = await add();
    const before = await written();
    for (const [slug, missing] of [
      ['acme', '00000000-0000-4000-8000-000000000000'],
      ['acme', 'nope'],
      ['globex', id],
    ] as const) {
      const base = `/v1/tenants/${slug}/webhooks/${missing}`;
      const answers = [
        await call('get', base),
        await call('patch', base, { url: 'https://example.com/x' }),
        await call('delete', base),
        await call('post', `${base}/rotate-secret`, {}),
        await call('post', `${base}/disable`),
        await call('post', `${base}/enable`),
        await call('get', `${base}/deliveries`),
        await call('post', `${base}/replay`, { since: '2026-01-01T00:00:00Z' }),
      ];
      for (const res of answers) expect(res.status, `${base}: ${res.text}`).toBe(404);
    }
    expect(await written()).toEqual(before);
    expect(globex.id).not.toBe(acme.id);
  });

  it('updates the URL, the types and the format; what is not given stays', async () => {
    const { id } = await add({ url: 'https://a.example.com/', events: ['user.*'] });
    const res = await call('patch', `/v1/tenants/acme/webhooks/${id}`, {
      url: 'https://b.example.com/',
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ url: 'https://b.example.com/', format: 'standard' });
    expect(res.body.events).toContain('user.created');
    const all = await call('patch', `/v1/tenants/acme/webhooks/${id}`, { events: ['*'] });
    expect(all.body.events).toEqual([]);
    expect(await auditActions()).toContain('webhook.updated');
  });

  it.each([
    [{}, 'nothing to change'],
    [{ url: 'mailto:a@example.com' }, 'url'],
    [{ events: ['group.nope'] }, 'group.nope'],
    [{ format: 'csv' }, 'format'],
    [{ state: 'disabled' }, 'state'],
  ])('update %j is 400 naming %s and writes nothing', async (body, named) => {
    const { id } = await add();
    const before = await written();
    const res = await call('patch', `/v1/tenants/acme/webhooks/${id}`, body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.message).toContain(named);
    expect(await written()).toEqual(before);
  });

  it('rotates the secret with a day of overlap by default, or none', async () => {
    const { id, secret } = await add();
    const rotated = await call('post', `/v1/tenants/acme/webhooks/${id}/rotate-secret`);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).toMatch(SECRET_FORMAT);
    expect(rotated.body.secret).not.toBe(secret);
    const overlapEnds = Date.parse(rotated.body.previousSecretExpiresAt as string);
    expect(Math.abs(overlapEnds - (Date.now() + 24 * HOUR))).toBeLessThan(HOUR);
    const now = await call('post', `/v1/tenants/acme/webhooks/${id}/rotate-secret`, {
      overlapMinutes: 0,
    });
    expect(now.status).toBe(200);
    expect(now.body.previousSecretExpiresAt).toBeNull();
    expect(await auditActions()).toContain('webhook.secret_rotated');

    const before = await written();
    for (const body of [{ overlapMinutes: -1 }, { overlapMinutes: 99_999_999 }, { overlap: 5 }]) {
      const res = await call('post', `/v1/tenants/acme/webhooks/${id}/rotate-secret`, body);
      expect(res.status, res.text).toBe(400);
    }
    expect(await written()).toEqual(before);
  });

  it('disables and enables a webhook; doing it twice changes nothing more', async () => {
    const { id } = await add();
    const disabled = await call('post', `/v1/tenants/acme/webhooks/${id}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ state: 'disabled', disabledReason: 'operator' });
    const before = await written();
    expect((await call('post', `/v1/tenants/acme/webhooks/${id}/disable`)).status).toBe(200);
    expect(await written()).toEqual(before);
    const enabled = await call('post', `/v1/tenants/acme/webhooks/${id}/enable`);
    expect(enabled.body).toMatchObject({ state: 'enabled', disabledReason: null });
    const actions = await auditActions();
    expect(actions).toContain('webhook.disabled');
    expect(actions).toContain('webhook.enabled');
    const withBody = await call('post', `/v1/tenants/acme/webhooks/${id}/disable`, { why: 'x' });
    expect(withBody.status).toBe(400);
  });

  it('replays from an event id or a time: the cursor moves back to just before it', async () => {
    const { id } = await add();
    const second = eventId(acme.id, 2);
    const byId = await call('post', `/v1/tenants/acme/webhooks/${id}/replay`, { since: second });
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body.deliveredThrough).toBe(encodeChangeCursor(acme.id, 1));
    const byTime = await call('post', `/v1/tenants/acme/webhooks/${id}/replay`, {
      since: '2000-01-01T00:00:00Z',
    });
    expect(byTime.status, byTime.text).toBe(200);
    expect(byTime.body.deliveredThrough).toBe(encodeChangeCursor(acme.id, 0));
    expect(await auditActions()).toContain('webhook.replayed');
  });

  it.each([
    [{}, 'since'],
    [{ since: 'evt_nope' }, 'since'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2024-02-30T00:00:00Z' }, '2024-02-30'],
    [{ since: 42 }, 'since'],
  ])('replay %j is 400 naming %s and writes nothing', async (body, named) => {
    const { id } = await add();
    const before = await written();
    const res = await call('post', `/v1/tenants/acme/webhooks/${id}/replay`, body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.message).toContain(named);
    expect(await written()).toEqual(before);
  });

  it("replay from another tenant's event is 400 and writes nothing", async () => {
    const { id } = await add();
    const before = await written();
    const res = await call('post', `/v1/tenants/acme/webhooks/${id}/replay`, {
      since: eventId(globex.id, 1),
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.message).toContain('another tenant');
    expect(await written()).toEqual(before);
  });

  it('lists no deliveries for a new webhook; bad paging is 400', async () => {
    const { id } = await add();
    const res = await call('get', `/v1/tenants/acme/webhooks/${id}/deliveries`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deliveries: [] });
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'before=0', 'before=abc', 'page=2']) {
      const bad = await call('get', `/v1/tenants/acme/webhooks/${id}/deliveries?${query}`);
      expect(bad.status, `${query}: ${bad.text}`).toBe(400);
    }
  });

  it('removes a webhook: it is gone, and removing it again is 404', async () => {
    const { id } = await add();
    const res = await call('delete', `/v1/tenants/acme/webhooks/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.removed).toMatchObject({ id });
    expect((await call('get', `/v1/tenants/acme/webhooks/${id}`)).status).toBe(404);
    expect((await call('delete', `/v1/tenants/acme/webhooks/${id}`)).status).toBe(404);
    expect(await auditActions()).toContain('webhook.removed');
  });

  it('test sends a signed ping and logs it; deliveries pages through the log, newest first', async () => {
    const added = await call(
      'post',
      '/v1/tenants/acme/webhooks',
      { url: receiverUrl },
      allowingApp,
    );
    expect(added.status, added.text).toBe(201);
    const { id, secret } = added.body as { id: string; secret: string };
    const path = `/v1/tenants/acme/webhooks/${id}`;
    answers.push(204, 500);
    const ok = await call('post', `${path}/test`, undefined, allowingApp);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ eventType: 'ping', attempt: 1, status: 204, error: null });
    expect(ok.body.eventId).toMatch(/^ping_/);
    const ping = received.at(-1);
    expect(ping?.headers['webhook-id']).toBe(ok.body.eventId);
    expect(JSON.parse(ping?.body ?? '{}')).toMatchObject({ type: 'ping', tenant: 'acme' });
    // Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body", keyed with the secret's bytes.
    const signed = `${String(ping?.headers['webhook-id'])}.${String(ping?.headers['webhook-timestamp'])}.${ping?.body ?? ''}`;
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
    expect(String(ping?.headers['webhook-signature']).split(' ')).toContain(expected);

    const refused = await call('post', `${path}/test`, undefined, allowingApp);
    expect(refused.status).toBe(200);
    expect(refused.body.status).toBe(500);
    expect(refused.body.responseExcerpt).toContain('thanks');

    const log = await call('get', `${path}/deliveries`);
    expect((log.body.deliveries as { status: number }[]).map((d) => d.status)).toEqual([500, 204]);
    const first = await call('get', `${path}/deliveries?limit=1`);
    expect(first.body.deliveries).toHaveLength(1);
    expect(first.body.next).toBe(String(first.body.deliveries[0].id));
    const older = await call(
      'get',
      `${path}/deliveries?limit=1&before=${first.body.next as string}`,
    );
    expect((older.body.deliveries as { status: number }[]).map((d) => d.status)).toEqual([204]);
  });

  it('test of a webhook whose host is refused by the outbound policy logs the refusal, sends nothing', async () => {
    const { id } = await add({ url: 'http://localhost:9/hook' });
    const before = received.length;
    const res = await call('post', `/v1/tenants/acme/webhooks/${id}/test`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBeNull();
    expect(res.body.error).toEqual(expect.any(String));
    expect(received.length).toBe(before);
    const missing = await call('post', '/v1/tenants/acme/webhooks/nope/test');
    expect(missing.status).toBe(404);
    const withBody = await call('post', `/v1/tenants/acme/webhooks/${id}/test`, { loud: true });
    expect(withBody.status).toBe(400);
  });
});
