import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError, type CoreErrorCode } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import type { TenantSettingsChange } from './tenant.js';
import {
  createTenant,
  findTenantBySlug,
  getTenantBySlug,
  listTenants,
  updateTenantSettings,
} from './tenant.repository.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' }, requestId: 'req-1' };

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

async function expectCoreError(work: Promise<unknown>, code: CoreErrorCode): Promise<CoreError> {
  const error: unknown = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CoreError);
  expect((error as CoreError).code).toBe(code);
  return error as CoreError;
}

async function countRows(table: 'tenants' | 'audit_events'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('createTenant', () => {
  it('creates a tenant with the default settings', async () => {
    const tenant = await createTenant(db, 'defaults', operator);
    expect(tenant).toMatchObject({
      slug: 'defaults',
      gracePeriodDays: 90,
      cleanupAfterDays: null,
      allowedOrigins: [],
    });
    expect(tenant.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(tenant.createdAt).toBeInstanceOf(Date);
    expect(tenant.updatedAt).toBeInstanceOf(Date);
    expect(await findTenantBySlug(db, 'defaults')).toEqual(tenant);
  });

  it('stores the settings given at creation, with origins normalised', async () => {
    const tenant = await createTenant(db, 'with-settings', operator, {
      gracePeriodDays: 0,
      cleanupAfterDays: 30,
      allowedOrigins: ['https://App.Example.com:443/', 'http://localhost:3000'],
    });
    expect(tenant).toMatchObject({
      gracePeriodDays: 0,
      cleanupAfterDays: 30,
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000'],
    });
    expect(await getTenantBySlug(db, 'with-settings')).toEqual(tenant);
  });

  it('records a tenant.created audit event with the actor, the request id and the settings', async () => {
    const tenant = await createTenant(db, 'audited', {
      actor: { type: 'operator', id: 'bob' },
      requestId: 'req-created',
    });
    const events = await listAuditEvents(db, tenant.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: tenant.id,
      action: 'tenant.created',
      actor: { type: 'operator', id: 'bob' },
      target: { type: 'tenant', id: tenant.id },
      requestId: 'req-created',
      changes: { slug: 'audited', gracePeriodDays: 90, cleanupAfterDays: null, allowedOrigins: [] },
    });
  });

  it('refuses a slug already taken with Conflict and leaves the first tenant as it was', async () => {
    const first = await createTenant(db, 'taken', operator);
    const tenantsBefore = await countRows('tenants');
    const auditBefore = await countRows('audit_events');
    const error = await expectCoreError(
      createTenant(db, 'taken', operator, { gracePeriodDays: 5 }),
      'Conflict',
    );
    expect(error.details).toEqual({ slug: 'taken' });
    expect(await countRows('tenants')).toBe(tenantsBefore);
    expect(await countRows('audit_events')).toBe(auditBefore);
    expect(await getTenantBySlug(db, 'taken')).toEqual(first);
  });

  it('lets exactly one of two parallel creates of the same slug succeed; the other is Conflict', async () => {
    const results = await Promise.allSettled([
      createTenant(db, 'race', operator),
      createTenant(db, 'race', operator),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(CoreError);
    expect((rejected[0]?.reason as CoreError).code).toBe('Conflict');
    const rows = await db.selectFrom('tenants').select('id').where('slug', '=', 'race').execute();
    expect(rows).toHaveLength(1);
    const created = await db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'tenant.created')
      .where('tenant_id', '=', rows[0]?.id ?? '')
      .execute();
    expect(created).toHaveLength(1);
  });

  it.each(['', 'Acme', '-acme', 'acme corp', 'acme_corp', 'a'.repeat(64), 'acmé'])(
    'refuses the invalid slug %j with Invalid and writes nothing',
    async (slug) => {
      const tenantsBefore = await countRows('tenants');
      const auditBefore = await countRows('audit_events');
      const error = await expectCoreError(createTenant(db, slug, operator), 'Invalid');
      expect(error.details).toEqual({ field: 'slug' });
      expect(await countRows('tenants')).toBe(tenantsBefore);
      expect(await countRows('audit_events')).toBe(auditBefore);
    },
  );

  it('accepts slugs of one and of 63 characters', async () => {
    await createTenant(db, '7', operator);
    await createTenant(db, `b${'-'.repeat(61)}b`, operator);
    expect(await findTenantBySlug(db, '7')).toBeDefined();
    expect(await findTenantBySlug(db, `b${'-'.repeat(61)}b`)).toBeDefined();
  });

  it('refuses invalid settings at creation with Invalid and writes nothing', async () => {
    const tenantsBefore = await countRows('tenants');
    await expectCoreError(
      createTenant(db, 'bad-settings', operator, { gracePeriodDays: -1 }),
      'Invalid',
    );
    await expectCoreError(
      createTenant(db, 'bad-settings', operator, { allowedOrigins: ['https://x.example/path'] }),
      'Invalid',
    );
    expect(await countRows('tenants')).toBe(tenantsBefore);
    expect(await findTenantBySlug(db, 'bad-settings')).toBeUndefined();
  });
});

describe('listTenants, findTenantBySlug and getTenantBySlug', () => {
  let isolated: TestDatabase;
  beforeAll(async () => {
    isolated = await createTestDatabase();
  });
  afterAll(async () => {
    await isolated.close();
  });

  it('lists no tenants in an empty directory', async () => {
    expect(await listTenants(isolated.db)).toEqual([]);
  });

  it('lists every tenant ordered by slug', async () => {
    for (const slug of ['zeta', 'alpha', 'mu']) await createTenant(isolated.db, slug, operator);
    const tenants = await listTenants(isolated.db);
    expect(tenants.map((t) => t.slug)).toEqual(['alpha', 'mu', 'zeta']);
    expect(tenants[0]).toMatchObject({
      gracePeriodDays: 90,
      cleanupAfterDays: null,
      allowedOrigins: [],
    });
  });

  it('finds a tenant by slug and returns undefined for an unknown one', async () => {
    const found = await findTenantBySlug(isolated.db, 'mu');
    expect(found?.slug).toBe('mu');
    expect(await findTenantBySlug(isolated.db, 'nope')).toBeUndefined();
  });

  it('gets a tenant by slug and throws NotFound for an unknown one', async () => {
    expect((await getTenantBySlug(isolated.db, 'alpha')).slug).toBe('alpha');
    const error = await expectCoreError(getTenantBySlug(isolated.db, 'nope'), 'NotFound');
    expect(error.details).toEqual({ slug: 'nope' });
    expect(error.message).toContain('nope');
  });
});

describe('updateTenantSettings', () => {
  it('changes the settings, records before and after, and moves updatedAt', async () => {
    const before = await createTenant(db, 'update-me', operator);
    const context: ChangeContext = {
      actor: { type: 'operator', id: 'carol' },
      requestId: 'req-update',
    };
    const after = await updateTenantSettings(
      db,
      'update-me',
      { gracePeriodDays: 30, cleanupAfterDays: 180, allowedOrigins: ['https://app.example.com'] },
      context,
    );
    expect(after).toMatchObject({
      id: before.id,
      slug: 'update-me',
      gracePeriodDays: 30,
      cleanupAfterDays: 180,
      allowedOrigins: ['https://app.example.com'],
      createdAt: before.createdAt,
    });
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
    expect(await getTenantBySlug(db, 'update-me')).toEqual(after);

    const events = await listAuditEvents(db, before.id);
    expect(events.map((e) => e.action)).toEqual(['tenant.created', 'tenant.settings_changed']);
    expect(events[1]).toMatchObject({
      actor: { type: 'operator', id: 'carol' },
      requestId: 'req-update',
      target: { type: 'tenant', id: before.id },
      changes: {
        gracePeriodDays: { before: 90, after: 30 },
        cleanupAfterDays: { before: null, after: 180 },
        allowedOrigins: { before: [], after: ['https://app.example.com'] },
      },
    });
  });

  it('records only the settings that actually changed', async () => {
    const tenant = await createTenant(db, 'partial', operator, { gracePeriodDays: 10 });
    await updateTenantSettings(
      db,
      'partial',
      { gracePeriodDays: 10, cleanupAfterDays: 7 },
      operator,
    );
    const events = await listAuditEvents(db, tenant.id);
    expect(events.at(-1)?.changes).toEqual({ cleanupAfterDays: { before: null, after: 7 } });
  });

  it('leaves unmentioned settings alone and can turn cleanup off again', async () => {
    await createTenant(db, 'keep', operator, {
      gracePeriodDays: 14,
      cleanupAfterDays: 60,
      allowedOrigins: ['https://a.example'],
    });
    const updated = await updateTenantSettings(db, 'keep', { cleanupAfterDays: null }, operator);
    expect(updated).toMatchObject({
      gracePeriodDays: 14,
      cleanupAfterDays: null,
      allowedOrigins: ['https://a.example'],
    });
  });

  it('writes no audit event for an update that changes nothing', async () => {
    const tenant = await createTenant(db, 'unchanged', operator, {
      gracePeriodDays: 45,
      allowedOrigins: ['https://a.example'],
    });
    const eventsBefore = await listAuditEvents(db, tenant.id);
    const same = await updateTenantSettings(
      db,
      'unchanged',
      { gracePeriodDays: 45, cleanupAfterDays: null, allowedOrigins: ['https://a.example/'] },
      operator,
    );
    expect(same).toMatchObject({
      gracePeriodDays: 45,
      cleanupAfterDays: null,
      allowedOrigins: ['https://a.example'],
    });
    await updateTenantSettings(db, 'unchanged', {}, operator);
    expect(await listAuditEvents(db, tenant.id)).toEqual(eventsBefore);
  });

  it('normalises allowed origins to scheme://host[:port] and removes duplicates', async () => {
    await createTenant(db, 'origins', operator);
    const updated = await updateTenantSettings(
      db,
      'origins',
      {
        allowedOrigins: [
          'https://APP.example.com/',
          'https://app.example.com:443',
          'http://example.com:80',
          'http://localhost:3000',
          'https://[::1]:8443',
        ],
      },
      operator,
    );
    expect(updated.allowedOrigins).toEqual([
      'https://app.example.com',
      'http://example.com',
      'http://localhost:3000',
      'https://[::1]:8443',
    ]);
  });

  it('accepts the boundary values of each setting', async () => {
    await createTenant(db, 'bounds', operator);
    const max = await updateTenantSettings(
      db,
      'bounds',
      {
        gracePeriodDays: 3650,
        cleanupAfterDays: 3650,
        allowedOrigins: Array.from({ length: 50 }, (_, i) => `https://o${i}.example`),
      },
      operator,
    );
    expect(max).toMatchObject({ gracePeriodDays: 3650, cleanupAfterDays: 3650 });
    expect(max.allowedOrigins).toHaveLength(50);
    const min = await updateTenantSettings(
      db,
      'bounds',
      { gracePeriodDays: 0, cleanupAfterDays: 1, allowedOrigins: [] },
      operator,
    );
    expect(min).toMatchObject({ gracePeriodDays: 0, cleanupAfterDays: 1, allowedOrigins: [] });
  });

  const invalidChanges: [string, TenantSettingsChange, string][] = [
    ['a negative grace period', { gracePeriodDays: -1 }, 'gracePeriodDays'],
    ['a grace period over 3650 days', { gracePeriodDays: 3651 }, 'gracePeriodDays'],
    ['a fractional grace period', { gracePeriodDays: 1.5 }, 'gracePeriodDays'],
    ['a NaN grace period', { gracePeriodDays: Number.NaN }, 'gracePeriodDays'],
    ['cleanup after 0 days', { cleanupAfterDays: 0 }, 'cleanupAfterDays'],
    ['cleanup after 3651 days', { cleanupAfterDays: 3651 }, 'cleanupAfterDays'],
    ['a fractional cleanup', { cleanupAfterDays: 2.5 }, 'cleanupAfterDays'],
    [
      'an origin with a path',
      { allowedOrigins: ['https://app.example.com/login'] },
      'allowedOrigins',
    ],
    [
      'an origin with a query',
      { allowedOrigins: ['https://app.example.com/?next=1'] },
      'allowedOrigins',
    ],
    [
      'an origin with a fragment',
      { allowedOrigins: ['https://app.example.com/#top'] },
      'allowedOrigins',
    ],
    [
      'an origin with credentials',
      { allowedOrigins: ['https://user:pw@app.example.com'] },
      'allowedOrigins',
    ],
    ['an ftp origin', { allowedOrigins: ['ftp://files.example.com'] }, 'allowedOrigins'],
    ['a javascript: origin', { allowedOrigins: ['javascript:alert(1)'] }, 'allowedOrigins'],
    ['an origin that is not a URL', { allowedOrigins: ['app.example.com'] }, 'allowedOrigins'],
    [
      'a good origin next to a bad one',
      { allowedOrigins: ['https://ok.example', 'not a url'] },
      'allowedOrigins',
    ],
    [
      '51 origins',
      { allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://o${i}.example`) },
      'allowedOrigins',
    ],
    [
      'a valid grace period with an invalid cleanup',
      { gracePeriodDays: 7, cleanupAfterDays: 0 },
      'cleanupAfterDays',
    ],
  ];

  it.each(invalidChanges)(
    'refuses %s with Invalid and leaves the tenant unchanged',
    async (_label, change, field) => {
      const slug = `inv-${Math.random().toString(16).slice(2, 10)}`;
      const tenant = await createTenant(db, slug, operator, {
        gracePeriodDays: 20,
        cleanupAfterDays: 40,
        allowedOrigins: ['https://keep.example'],
      });
      const error = await expectCoreError(
        updateTenantSettings(db, slug, change, operator),
        'Invalid',
      );
      expect(error.details).toEqual({ field });
      expect(await getTenantBySlug(db, slug)).toEqual(tenant);
      expect((await listAuditEvents(db, tenant.id)).map((e) => e.action)).toEqual([
        'tenant.created',
      ]);
    },
  );

  it('throws NotFound for an unknown slug', async () => {
    const error = await expectCoreError(
      updateTenantSettings(db, 'ghost', { gracePeriodDays: 1 }, operator),
      'NotFound',
    );
    expect(error.details).toEqual({ slug: 'ghost' });
    expect(await findTenantBySlug(db, 'ghost')).toBeUndefined();
  });
});
