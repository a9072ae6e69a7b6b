// One contract for the input of every admin route, checked over the routes the app really has
// (read from its router, so a route added later is covered without touching this file): a body
// that is not JSON is a 415, an unknown query parameter or body field is a 400 naming it, and
// neither writes anything.
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createScimToken,
  createTenant,
  createUserFromScim,
  deleteUserFromScim,
  fixedClock,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const TOKEN = 'input-admin-token-0123456789abcdef';
const ctx: ChangeContext = { actor: { type: 'operator', id: 'test' } };
const clock = fixedClock('2026-03-01T00:00:00Z');
let database: TestDatabase;
let app: Express;
let values: Record<string, string>;

interface Route {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  readonly path: string;
}

/** Every route of the app, read from express' router (mounted routers under /v1). */
function routesOf(app: Express): Route[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const routes: Route[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          routes.push({ method: method as Route['method'], path: prefix + layer.route.path });
      } else if (layer.handle?.stack) walk(layer.handle.stack, '/v1');
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return routes.filter((route) => route.path.startsWith('/v1/'));
}

const urlOf = (route: Route) =>
  route.path.replace(/:(\w+)/g, (_, name: string) => values[name] ?? `unknown-${name}`);
const send = (route: Route, path = urlOf(route)) =>
  request(app)[route.method](path).set('Authorization', `Bearer ${TOKEN}`);

/** Everything an admin route can write, to show that a refused request wrote none of it. */
async function snapshot(): Promise<string> {
  const db = database.db;
  return JSON.stringify(
    await Promise.all([
      db.selectFrom('tenants').selectAll().orderBy('id').execute(),
      db.selectFrom('scim_tokens').selectAll().orderBy('id').execute(),
      db.selectFrom('saml_idps').selectAll().orderBy('id').execute(),
      db.selectFrom('users').selectAll().orderBy('id').execute(),
      db.selectFrom('events_tokens').selectAll().orderBy('id').execute(),
      db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute(),
      db.selectFrom('audit_events').select('id').orderBy('id').execute(),
    ]),
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createAdminApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock,
    lifecycle: createLifecycle(),
    adminToken: TOKEN,
    scimBaseUrl: 'http://scim.test',
    ssoBaseUrl: 'http://sso.test',
  });
  const tenant = await createTenant(database.db, 'input', ctx);
  const token = await createScimToken(database.db, 'input', { expiresAt: null }, ctx, clock);
  const idp = await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'okta',
      entity_id: 'https://okta.test',
      sso_url: 'https://okta.test/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // A user past its grace period, so that a purge that ran would show in the snapshot.
  const { user } = await createUserFromScim(
    database.db,
    tenant.id,
    { userName: 'gone@example.com' },
    ctx,
    clock,
  );
  await deleteUserFromScim(database.db, tenant.id, user.id, ctx, clock);
  clock.advance(400 * 86_400_000);
  values = { slug: 'input', id: token.id, idp: idp.id };
});
afterAll(() => database.close());

describe('the input of every admin route', () => {
  it('finds the routes of the app', () => {
    const routes = routesOf(app).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /v1/tenants',
        'PATCH /v1/tenants/:slug',
        'POST /v1/tenants/:slug/scim-tokens',
        'POST /v1/jobs/purge',
        'DELETE /v1/tenants/:slug/idps/:idp',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(16);
  });

  it('answers 415 to a body that is not JSON (text, a form, HTML), and writes nothing', async () => {
    const before = await snapshot();
    for (const route of routesOf(app)) {
      for (const [type, body] of [
        ['text/plain', '{"dryRun":true}'],
        ['application/x-www-form-urlencoded', 'dryRun=true&description=x'],
        ['text/html', '<p>dryRun</p>'],
      ] as const) {
        const res = await send(route).set('Content-Type', type).send(body);
        const what = `${route.method} ${route.path} with ${type}`;
        expect(res.status, what).toBe(415);
        expect(res.body.error.code, what).toBe('UnsupportedMediaType');
        expect(res.body.error.message, what).toContain('application/json');
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('answers 400 naming an unknown query parameter, and writes nothing', async () => {
    const before = await snapshot();
    for (const route of routesOf(app)) {
      const res = await send(route, `${urlOf(route)}?bogus=1`);
      const what = `${route.method} ${route.path}?bogus=1`;
      expect(res.status, what).toBe(400);
      expect(res.body.error.message, what).toContain('unknown query parameter "bogus"');
    }
    expect(await snapshot()).toBe(before);
  });

  it('answers 400 naming an unknown body field, also on routes that take no body, and writes nothing', async () => {
    const before = await snapshot();
    for (const route of routesOf(app)) {
      const res = await send(route).send({ dryRun: true, bogus: 1 });
      const what = `${route.method} ${route.path} with a bogus field`;
      expect(res.status, what).toBe(400);
      expect(res.body.error.message, what).toContain('"bogus"');
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('the purge, a destructive job', () => {
  it('does not run unless the body says dryRun: false in so many words', async () => {
    const before = await snapshot();
    const post = (body?: object) => {
      const test = send({ method: 'post', path: '/v1/jobs/purge' });
      return body === undefined ? test : test.send(body);
    };
    for (const refused of [await post(), await post({}), await post({ tenant: 'input' })]) {
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('dryRun');
    }
    expect(await snapshot()).toBe(before);

    expect((await post({ tenant: 'input', dryRun: true })).body).toMatchObject({
      purged: 1,
      dryRun: true,
    });
    expect(await snapshot()).toBe(before);
    expect((await post({ tenant: 'input', dryRun: false })).body).toMatchObject({
      purged: 1,
      dryRun: false,
    });
  });
});
