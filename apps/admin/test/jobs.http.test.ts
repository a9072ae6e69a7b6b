import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createTenant,
  createUserFromScim,
  deleteUserFromScim,
  fixedClock,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createAdminApp } from '../src/index.js';

const TOKEN = 'jobs-admin-token-0123456789abcdef';
const ctx: ChangeContext = { actor: { type: 'scim_token', id: 't' } };
const clock = fixedClock('2026-03-01T00:00:00Z');
let database: TestDatabase;
let app: ReturnType<typeof createAdminApp>;
let tenantId: string;

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
  tenantId = (await createTenant(database.db, 'jobs', ctx)).id;
  await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenantId,
      name: 'okta',
      entity_id: 'https://okta.test',
      sso_url: 'https://okta.test/sso',
      signing_certificates: ['x'],
    })
    .execute();
});
afterAll(() => database.close());

const post = (path: string, body: unknown) =>
  request(app)
    .post(path)
    .set('Authorization', `Bearer ${TOKEN}`)
    .send(body as object);

describe('purge and explain through the admin API', () => {
  it('purges only users past their grace period, with a dry run first', async () => {
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'gone@example.com' },
      ctx,
      clock,
    );
    await deleteUserFromScim(database.db, tenantId, user.id, ctx, clock);
    expect((await post('/v1/jobs/purge', { tenant: 'jobs', dryRun: false })).body).toMatchObject({
      purged: 0,
      remaining: 0,
    });
    clock.advance(91 * 86_400_000);
    expect((await post('/v1/jobs/purge', { tenant: 'jobs', dryRun: true })).body).toMatchObject({
      purged: 1,
      dryRun: true,
    });
    expect((await post('/v1/jobs/purge', { tenant: 'jobs', dryRun: false })).body).toMatchObject({
      purged: 1,
      dryRun: false,
      remaining: 0,
    });
    expect(
      await database.db.selectFrom('users').select('id').where('id', '=', user.id).execute(),
    ).toEqual([]);
  });

  it('refuses a bad purge request and an unknown tenant', async () => {
    expect((await post('/v1/jobs/purge', { dryRun: 'yes' })).status).toBe(400);
    expect((await post('/v1/jobs/purge', { tenant: 'nope', dryRun: true })).status).toBe(404);
  });

  it('explains who would sign in, by which key, without writing anything', async () => {
    await createUserFromScim(database.db, tenantId, { userName: 'ann@example.com' }, ctx, clock);
    const before = await database.db.selectFrom('audit_events').selectAll().execute();
    const matched = await post('/v1/tenants/jobs/explain', {
      idp: 'okta',
      nameId: 'ANN@example.com',
    });
    expect(matched.status).toBe(200);
    expect(matched.body).toMatchObject({
      outcome: 'sign_in',
      matchedBy: 'userName',
      willLink: true,
      willRefresh: false,
      user: { userName: 'ann@example.com' },
    });
    const unknown = await post('/v1/tenants/jobs/explain', {
      idp: 'okta',
      nameId: 'new@example.com',
      attributes: { displayName: 'New' },
    });
    expect(unknown.body).toMatchObject({
      outcome: 'create',
      willLink: true,
      userName: 'new@example.com',
    });
    expect(await database.db.selectFrom('audit_events').selectAll().execute()).toEqual(before);
    expect(
      await database.db
        .selectFrom('users')
        .select('id')
        .where('user_name', '=', 'new@example.com')
        .execute(),
    ).toEqual([]);
  });

  it('answers an unknown IdP with 404 and a missing NameID with 400', async () => {
    expect((await post('/v1/tenants/jobs/explain', { idp: 'nope', nameId: 'x' })).status).toBe(404);
    expect((await post('/v1/tenants/jobs/explain', { idp: 'okta' })).status).toBe(400);
  });
});
