// The events API (GET /v1/tenants/:slug/events) and its read-only credential, the events token:
// paging with cursors, type filters, bad input, and what an events token may and may not reach.
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGroupFromScim,
  createLogger,
  createScimToken,
  createTenant,
  createUserFromScim,
  DEFAULT_EVENTS_PAGE_SIZE,
  encodeChangeCursor,
  eventId,
  latestChangeSeq,
  MAX_EVENTS_PAGE_SIZE,
  systemClock,
  type ChangeContext,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const ADMIN_TOKEN = 'roster_admin_test-token-for-the-events-api';
const EVENTS_TOKEN_FORMAT = /^roster_events_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
const EVENT_COUNT = 250;
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'test' } };
let database: TestDatabase;
let app: Express;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    adminToken: ADMIN_TOKEN,
    scimBaseUrl: 'https://scim.roster.test',
    ssoBaseUrl: 'https://sso.roster.test',
  });
  acme = await createTenant(database.db, 'acme', { actor: { type: 'system' } });
  globex = await createTenant(database.db, 'globex', { actor: { type: 'system' } });
  // 200 users and 50 groups, interleaved: every fifth event is a group's.
  for (let i = 0; i < EVENT_COUNT; i += 1) {
    if (i % 5 === 4)
      await createGroupFromScim(
        database.db,
        acme.id,
        { displayName: `Group ${i}` },
        [],
        scim,
        systemClock,
      );
    else
      await createUserFromScim(
        database.db,
        acme.id,
        { userName: `user${i}@acme.test` },
        scim,
        systemClock,
      );
  }
});
afterAll(async () => {
  await database.close();
});

type Method = 'get' | 'post' | 'patch' | 'delete';
const as = (token: string, method: Method, path: string, body?: object) => {
  const test = request(app)[method](path).set('Authorization', `Bearer ${token}`);
  return body === undefined ? test : test.send(body);
};
const admin = (method: Method, path: string, body?: object) => as(ADMIN_TOKEN, method, path, body);

interface EventJson {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  data: Record<string, unknown>;
}
interface Page {
  events: EventJson[];
  next: string;
}

/** Every event of acme through the API, page by page, and the pages' sizes. */
async function readAll(query: Record<string, string>): Promise<{ ids: string[]; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: string | undefined;
  for (;;) {
    const params = new URLSearchParams({ ...query, ...(after ? { after } : {}) });
    const res = await admin('get', `/v1/tenants/acme/events?${params.toString()}`);
    expect(res.status, res.text).toBe(200);
    const page = res.body as Page;
    expect(typeof page.next).toBe('string');
    sizes.push(page.events.length);
    ids.push(...page.events.map((event) => event.id));
    if (page.events.length === 0) {
      // An empty page keeps the cursor where it was: a client loops with it for ever.
      if (after) expect(page.next).toBe(after);
      return { ids, sizes };
    }
    after = page.next;
  }
}

/** The ids of acme's events straight from the outbox, in seq order, of these kinds only. */
async function outboxIds(kinds: readonly string[]): Promise<string[]> {
  const rows = await database.db
    .selectFrom('change_outbox')
    .select(['seq'])
    .where('tenant_id', '=', acme.id)
    .where('kind', 'in', kinds)
    .orderBy('seq')
    .execute();
  return rows.map((row) => eventId(acme.id, Number(row.seq)));
}

describe('GET /v1/tenants/:slug/events', () => {
  it(`pages through ${EVENT_COUNT} events with limit=100: all of them, in order, exactly once`, async () => {
    const { ids, sizes } = await readAll({ limit: '100' });
    expect(sizes).toEqual([100, 100, 50, 0]);
    expect(new Set(ids).size).toBe(EVENT_COUNT);
    expect(ids).toEqual(await outboxIds(['user.created', 'group.created']));
    expect([...ids].sort()).toEqual(ids); // ids sort in sequence order within a tenant
  });

  it('filters by types: a prefix pattern, an exact type, and both', async () => {
    const users = await readAll({ limit: '100', types: 'user.*' });
    expect(users.sizes).toEqual([100, 100, 0]);
    expect(users.ids).toEqual(await outboxIds(['user.created']));
    const groups = await readAll({ limit: '100', types: 'group.created' });
    expect(groups.ids).toEqual(await outboxIds(['group.created']));
    expect(groups.ids).toHaveLength(EVENT_COUNT / 5);
    const both = await readAll({ limit: '100', types: 'user.*,group.created' });
    expect(both.ids).toHaveLength(EVENT_COUNT);
    const none = await readAll({ types: 'session.ended' });
    expect(none.ids).toEqual([]);
  });

  it('answers each event as {id, type, version, occurredAt, data}', async () => {
    const res = await admin('get', '/v1/tenants/acme/events?limit=5');
    const page = res.body as Page;
    expect(page.events).toHaveLength(5);
    const [first] = page.events;
    expect(Object.keys(first ?? {}).sort()).toEqual([
      'data',
      'id',
      'occurredAt',
      'type',
      'version',
    ]);
    expect(first).toMatchObject({ type: 'user.created', version: 1 });
    expect(new Date(first?.occurredAt ?? '').toISOString()).toBe(first?.occurredAt);
    expect(first?.data.user).toMatchObject({ id: expect.any(String) });
    expect(page.next).toBe(encodeChangeCursor(acme.id, 5));
  });

  it(`reads ${DEFAULT_EVENTS_PAGE_SIZE} events without a limit, from the start without a cursor`, async () => {
    const res = await admin('get', '/v1/tenants/acme/events');
    expect((res.body as Page).events).toHaveLength(DEFAULT_EVENTS_PAGE_SIZE);
    expect((res.body as Page).events[0]?.id).toBe(eventId(acme.id, 1));
  });

  it('a tenant with no events answers none, and the start as next', async () => {
    const res = await admin('get', '/v1/tenants/globex/events');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ events: [], next: encodeChangeCursor(globex.id, 0) });
  });

  it('after=now answers no events and the cursor of the latest one; then only what comes next', async () => {
    const res = await admin('get', '/v1/tenants/acme/events?after=now');
    expect(res.status).toBe(200);
    const head = await latestChangeSeq(database.db, acme.id);
    expect(res.body).toEqual({ events: [], next: encodeChangeCursor(acme.id, head) });
    const { user } = await createUserFromScim(
      database.db,
      acme.id,
      { userName: 'late@acme.test' },
      scim,
      systemClock,
    );
    const after = await admin(
      'get',
      `/v1/tenants/acme/events?after=${encodeURIComponent((res.body as Page).next)}`,
    );
    const events = (after.body as Page).events;
    expect(events.map((e) => [e.type, (e.data.user as { id: string }).id])).toEqual([
      ['user.created', user.id],
    ]);
  });

  it.each([
    ['after=not-a-cursor', 'after'],
    [`after=${encodeChangeCursor('00000000-0000-4000-8000-000000000000', 1)}`, 'another tenant'],
    [`after=${encodeChangeCursor('00000000-0000-4000-8000-000000000000', 1)}`, 'after'],
    ['limit=0', 'limit'],
    [`limit=${MAX_EVENTS_PAGE_SIZE + 1}`, `${MAX_EVENTS_PAGE_SIZE}`],
    ['limit=1.5', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=', 'limit'],
    ['types=user.nope', 'user.nope'],
    ['types=', 'event type'],
    ['types=user.*,', 'event type'],
    ['types=user.*&types=group.*', 'types'],
    [`types=${'user.*,'.repeat(200)}`, 'types'],
    ['cursor=abc', 'cursor'],
  ])('%s is 400 naming %s', async (query, named) => {
    const res = await admin('get', `/v1/tenants/acme/events?${query}`);
    expect(res.status, res.text).toBe(400);
    expect((res.body as { error: { message: string } }).error.message).toContain(named);
  });

  it("a cursor of another tenant is 400, and one past the tenant's latest event too", async () => {
    const other = await admin(
      'get',
      `/v1/tenants/globex/events?after=${encodeChangeCursor(acme.id, 3)}`,
    );
    expect(other.status).toBe(400);
    expect(other.body.error.message).toContain('another tenant');
    const ahead = await admin(
      'get',
      `/v1/tenants/globex/events?after=${encodeChangeCursor(globex.id, 1)}`,
    );
    expect(ahead.status).toBe(400);
    expect(ahead.body.error.message).toContain('ahead');
  });

  it('an unknown tenant is 404 to the admin token', async () => {
    const res = await admin('get', '/v1/tenants/initech/events');
    expect(res.status).toBe(404);
  });

  it('refuses no token, a wrong one and a SCIM token with 401', async () => {
    expect((await request(app).get('/v1/tenants/acme/events')).status).toBe(401);
    expect((await as('nope', 'get', '/v1/tenants/acme/events')).status).toBe(401);
    const { token } = await createScimToken(
      database.db,
      'acme',
      { expiresAt: null },
      { actor: { type: 'system' } },
      systemClock,
    );
    expect((await as(token, 'get', '/v1/tenants/acme/events')).status).toBe(401);
  });
});

/** Rows in events_tokens and audit events: what "nothing written" is checked against. */
async function written(): Promise<[number, number]> {
  const count = async (table: 'events_tokens' | 'audit_events') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return [await count('events_tokens'), await count('audit_events')];
}

describe('/v1/tenants/:slug/events-tokens', () => {
  let token: string;
  let tokenId: string;

  beforeAll(async () => {
    const res = await admin('post', '/v1/tenants/acme/events-tokens', {
      description: 'billing app',
    });
    expect(res.status, res.text).toBe(201);
    token = res.body.token as string;
    tokenId = res.body.id as string;
  });

  it('issues a token shown once, listed without its secret, stored hashed', async () => {
    expect(token).toMatch(EVENTS_TOKEN_FORMAT);
    const listed = await admin('get', '/v1/tenants/acme/events-tokens');
    expect(listed.status).toBe(200);
    expect(listed.body.tokens).toEqual([
      expect.objectContaining({ id: tokenId, description: 'billing app', status: 'active' }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain('roster_events_');
    const row = await database.db
      .selectFrom('events_tokens')
      .selectAll()
      .where('id', '=', tokenId)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash.toString('utf8')).not.toContain(token.slice(-43));
    const audit = await admin('get', '/v1/tenants/acme/audit');
    expect(audit.body.events).toContainEqual(
      expect.objectContaining({ action: 'events_token.created' }),
    );
  });

  it("reads its own tenant's events, and notes when it was used", async () => {
    const res = await as(token, 'get', '/v1/tenants/acme/events?limit=3&types=group.*');
    expect(res.status, res.text).toBe(200);
    expect((res.body as Page).events.map((e) => e.type)).toEqual([
      'group.created',
      'group.created',
      'group.created',
    ]);
    const listed = await admin('get', '/v1/tenants/acme/events-tokens');
    expect(listed.body.tokens[0].lastUsedAt).not.toBeNull();
  });

  it("another tenant's events are 403, alike whether that tenant exists or not", async () => {
    const globexRes = await as(token, 'get', '/v1/tenants/globex/events');
    const missing = await as(token, 'get', '/v1/tenants/initech/events');
    expect(globexRes.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(missing.body.error.message).toBe(globexRes.body.error.message);
  });

  it.each([
    ['get', '/v1/tenants'],
    ['get', '/v1/tenants/acme'],
    ['get', '/v1/tenants/acme/users'],
    ['get', '/v1/tenants/acme/audit'],
    ['get', '/v1/tenants/acme/events-tokens'],
    ['post', '/v1/tenants/acme/events-tokens'],
    ['get', '/v1/tenants/acme/scim-tokens'],
    ['get', '/v1/tenants/acme/webhooks'],
    ['post', '/v1/tenants/acme/events'],
    ['delete', '/v1/tenants/acme/events'],
  ] as const)('reaches nothing else: %s %s is 401', async (method, path) => {
    const before = await written();
    const res = await as(token, method, path, method === 'post' ? {} : undefined);
    expect(res.status).toBe(401);
    expect(await written()).toEqual(before);
  });

  it('bad input to the token routes is 400 or 404 and writes nothing', async () => {
    const before = await written();
    const bad = [
      await admin('post', '/v1/tenants/acme/events-tokens', { scope: 'all' }),
      await admin('post', '/v1/tenants/acme/events-tokens', { description: 'x'.repeat(201) }),
      await admin('post', '/v1/tenants/acme/events-tokens', { expiresInDays: 0 }),
      await admin('post', '/v1/tenants/acme/events-tokens', { expiresInDays: 'soon' }),
    ];
    for (const res of bad) expect(res.status, res.text).toBe(400);
    expect((await admin('post', '/v1/tenants/initech/events-tokens', {})).status).toBe(404);
    expect((await admin('delete', '/v1/tenants/acme/events-tokens/nope')).status).toBe(404);
    expect((await admin('delete', `/v1/tenants/globex/events-tokens/${tokenId}`)).status).toBe(404);
    expect(await written()).toEqual(before);
  });

  it('a revoked token is refused at once', async () => {
    const revoked = await admin('delete', `/v1/tenants/acme/events-tokens/${tokenId}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const res = await as(token, 'get', '/v1/tenants/acme/events');
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('revoked');
    const again = await admin('delete', `/v1/tenants/acme/events-tokens/${tokenId}`);
    expect(again.status).toBe(200);
  });

  it('a token with an altered secret is refused', async () => {
    const issued = await admin('post', '/v1/tenants/acme/events-tokens', {});
    const value = issued.body.token as string;
    const altered = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    expect((await as(altered, 'get', '/v1/tenants/acme/events')).status).toBe(401);
    expect((await as(value, 'get', '/v1/tenants/acme/events')).status).toBe(200);
  });
});
