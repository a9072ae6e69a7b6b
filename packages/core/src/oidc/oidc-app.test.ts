import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { CoreError, type CoreErrorCode } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import type { Tenant } from '../tenants/tenant.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  addOidcApp,
  findOidcApp,
  getOidcApp,
  isInsecureAppUri,
  listOidcApps,
  MAX_OIDC_APP_NAME_LENGTH,
  MAX_OIDC_REDIRECT_URIS,
  MAX_OIDC_URI_LENGTH,
  removeOidcApp,
  rotateOidcAppSecret,
  updateOidcApp,
  verifyOidcAppSecret,
  type OidcAppInput,
} from './oidc-app.js';

const CLIENT_ID_FORMAT = /^app_[A-Za-z0-9_-]{22}$/;
const CLIENT_SECRET_FORMAT = /^roster_cs_[A-Za-z0-9_-]{43}$/;
const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' }, requestId: 'req-apps' };
const wiki: OidcAppInput = { name: 'Wiki', redirectUris: ['https://wiki.example.com/callback'] };

let database: TestDatabase;
let db: Db;
let acme: Tenant;
let globex: Tenant;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  acme = await createTenant(db, 'acme', operator);
  globex = await createTenant(db, 'globex', operator);
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

const countApps = async () =>
  Number(
    (
      await db
        .selectFrom('oidc_apps')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('registering apps', () => {
  it('gives a confidential app a random client id and a secret that verifies', async () => {
    const { app, clientSecret } = await addOidcApp(db, acme.id, wiki, operator);
    expect(app.clientId).toMatch(CLIENT_ID_FORMAT);
    expect(clientSecret).toMatch(CLIENT_SECRET_FORMAT);
    expect(app).toMatchObject({
      tenantId: acme.id,
      kind: 'app',
      name: 'Wiki',
      redirectUris: ['https://wiki.example.com/callback'],
      postLogoutRedirectUris: [],
      isPublic: false,
      backchannelLogoutUri: null,
    });
    expect(app.secretRotatedAt).toBeInstanceOf(Date);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, clientSecret ?? '')).toBe(true);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, `${clientSecret}x`)).toBe(false);
    expect(await findOidcApp(db, acme.id, app.clientId)).toEqual(app);
  });

  it('stores only the SHA-256 of the secret', async () => {
    const { app, clientSecret } = await addOidcApp(db, acme.id, wiki, operator);
    const row = await db
      .selectFrom('oidc_apps')
      .selectAll()
      .where('client_id', '=', app.clientId)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toHaveLength(32);
    expect(JSON.stringify(row)).not.toContain(clientSecret?.slice(10));
  });

  it('gives a public app no secret, and nothing verifies against it', async () => {
    const { app, clientSecret } = await addOidcApp(
      db,
      acme.id,
      { ...wiki, isPublic: true, postLogoutRedirectUris: ['https://wiki.example.com/bye'] },
      operator,
    );
    expect(clientSecret).toBeNull();
    expect(app.isPublic).toBe(true);
    expect(app.secretRotatedAt).toBeNull();
    expect(app.postLogoutRedirectUris).toEqual(['https://wiki.example.com/bye']);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, '')).toBe(false);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, 'roster_cs_x')).toBe(false);
    await expectCoreError(rotateOidcAppSecret(db, acme.id, app.clientId, operator), 'Invalid');
  });

  it('keeps apps to their tenant: another tenant neither finds nor verifies them', async () => {
    const { app, clientSecret } = await addOidcApp(db, acme.id, wiki, operator);
    expect(await findOidcApp(db, globex.id, app.clientId)).toBeUndefined();
    await expectCoreError(getOidcApp(db, globex.id, app.clientId), 'NotFound');
    expect(await verifyOidcAppSecret(db, globex.id, app.clientId, clientSecret ?? '')).toBe(false);
    await expectCoreError(removeOidcApp(db, globex.id, app.clientId, operator), 'NotFound');
    expect((await listOidcApps(db, globex.id)).map((a) => a.clientId)).not.toContain(app.clientId);
    expect((await listOidcApps(db, acme.id)).map((a) => a.clientId)).toContain(app.clientId);
  });

  it('answers unknown and unstorable client ids as not found', async () => {
    for (const clientId of ['app_nope', '', 'a\u0000b', 'x'.repeat(5000)]) {
      expect(await findOidcApp(db, acme.id, clientId)).toBeUndefined();
      expect(await verifyOidcAppSecret(db, acme.id, clientId, 'roster_cs_x')).toBe(false);
    }
  });

  it('refuses a tenant that does not exist', async () => {
    await expectCoreError(
      addOidcApp(db, '00000000-0000-4000-8000-000000000000', wiki, operator),
      'NotFound',
    );
  });

  it('drops repeated URIs and keeps the order', async () => {
    const { app } = await addOidcApp(
      db,
      acme.id,
      {
        name: 'Twice',
        redirectUris: ['https://a.example/cb', 'https://b.example/cb', 'https://a.example/cb'],
      },
      operator,
    );
    expect(app.redirectUris).toEqual(['https://a.example/cb', 'https://b.example/cb']);
  });
});

describe('validation', () => {
  const long = `https://app.example.com/${'a'.repeat(MAX_OIDC_URI_LENGTH)}`;
  const many = Array.from(
    { length: MAX_OIDC_REDIRECT_URIS + 1 },
    (_, i) => `https://a.example/${i}`,
  );
  it.each<[string, Partial<OidcAppInput>, string]>([
    ['an empty name', { name: '' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a long name', { name: 'n'.repeat(MAX_OIDC_APP_NAME_LENGTH + 1) }, 'name'],
    ['a name with U+0000', { name: 'a\u0000b' }, 'name'],
    ['no redirect URI', { redirectUris: [] }, 'redirectUris'],
    ['too many redirect URIs', { redirectUris: many }, 'redirectUris'],
    ['a relative redirect URI', { redirectUris: ['/callback'] }, 'redirectUris[0]'],
    [
      'a redirect URI with a fragment',
      { redirectUris: ['https://a.example/cb#x'] },
      'redirectUris[0]',
    ],
    ['an empty fragment', { redirectUris: ['https://a.example/cb#'] }, 'redirectUris[0]'],
    ['a custom scheme', { redirectUris: ['com.example.app:/cb'] }, 'redirectUris[0]'],
    ['javascript:', { redirectUris: ['javascript:alert(1)'] }, 'redirectUris[0]'],
    ['credentials in the URI', { redirectUris: ['https://u:p@a.example/cb'] }, 'redirectUris[0]'],
    ['a long redirect URI', { redirectUris: [long] }, 'redirectUris[0]'],
    ['a non-string redirect URI', { redirectUris: [42 as unknown as string] }, 'redirectUris[0]'],
    [
      'redirect URIs not a list',
      { redirectUris: 'https://a.example/cb' as unknown as string[] },
      'redirectUris',
    ],
    [
      'a bad second URI',
      { redirectUris: ['https://a.example/cb', 'ftp://a.example/'] },
      'redirectUris[1]',
    ],
    [
      'a bad post-logout URI',
      { postLogoutRedirectUris: ['https://a.example/#bye'] },
      'postLogoutRedirectUris[0]',
    ],
    ['too many post-logout URIs', { postLogoutRedirectUris: many }, 'postLogoutRedirectUris'],
    ['a relative back-channel URI', { backchannelLogoutUri: 'logout' }, 'backchannelLogoutUri'],
    [
      'a back-channel URI with a fragment',
      { backchannelLogoutUri: 'https://a.example/bc#f' },
      'backchannelLogoutUri',
    ],
    ['isPublic not a boolean', { isPublic: 'yes' as unknown as boolean }, 'isPublic'],
  ])('refuses %s, naming the field, and writes nothing', async (_case, change, field) => {
    const before = await countApps();
    const error = await expectCoreError(
      addOidcApp(db, acme.id, { ...wiki, ...change }, operator),
      'Invalid',
    );
    expect(error.details).toMatchObject({ field });
    expect(await countApps()).toBe(before);
  });

  it('accepts http for any host (production apps are expected on https)', async () => {
    const { app } = await addOidcApp(
      db,
      acme.id,
      {
        name: 'Dev',
        redirectUris: ['http://app.example.test:3000/cb', 'http://localhost:8080/cb?x=1'],
        backchannelLogoutUri: 'http://app.example.test:3000/backchannel',
      },
      operator,
    );
    expect(app.redirectUris).toHaveLength(2);
    expect(isInsecureAppUri('http://app.example.test:3000/cb')).toBe(true);
    expect(isInsecureAppUri('http://localhost:8080/cb')).toBe(false);
    expect(isInsecureAppUri('http://127.0.0.1/cb')).toBe(false);
    expect(isInsecureAppUri('http://[::1]:3000/cb')).toBe(false);
    expect(isInsecureAppUri('https://app.example.com/cb')).toBe(false);
  });

  it('checks changes the same way and writes nothing when one is bad', async () => {
    const { app } = await addOidcApp(db, acme.id, wiki, operator);
    const error = await expectCoreError(
      updateOidcApp(
        db,
        acme.id,
        app.clientId,
        { name: 'New', redirectUris: ['https://x/#f'] },
        operator,
      ),
      'Invalid',
    );
    expect(error.details).toMatchObject({ field: 'redirectUris[0]' });
    expect(await getOidcApp(db, acme.id, app.clientId)).toEqual(app);
  });
});

describe('changing, rotating and removing', () => {
  it('updates what is given, keeps the rest, and records it', async () => {
    const { app, clientSecret } = await addOidcApp(db, acme.id, wiki, operator);
    const updated = await updateOidcApp(
      db,
      acme.id,
      app.clientId,
      {
        redirectUris: ['https://wiki.example.com/cb2'],
        backchannelLogoutUri: 'https://wiki.example.com/backchannel',
      },
      operator,
    );
    expect(updated).toMatchObject({
      clientId: app.clientId,
      name: 'Wiki',
      redirectUris: ['https://wiki.example.com/cb2'],
      backchannelLogoutUri: 'https://wiki.example.com/backchannel',
    });
    const cleared = await updateOidcApp(
      db,
      acme.id,
      app.clientId,
      { name: 'Wiki 2', backchannelLogoutUri: null },
      operator,
    );
    expect(cleared).toMatchObject({ name: 'Wiki 2', backchannelLogoutUri: null });
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, clientSecret ?? '')).toBe(true);
    const audit = await listAuditEvents(db, acme.id, { targetId: app.id });
    expect(audit.map((event) => event.action)).toEqual([
      'oidc_app.created',
      'oidc_app.updated',
      'oidc_app.updated',
    ]);
  });

  it('rotates a secret: the new one verifies, the old one no longer does', async () => {
    const { app, clientSecret: old } = await addOidcApp(db, acme.id, wiki, operator);
    const rotated = await rotateOidcAppSecret(db, acme.id, app.clientId, operator);
    expect(rotated.clientSecret).toMatch(CLIENT_SECRET_FORMAT);
    expect(rotated.clientSecret).not.toBe(old);
    expect(rotated.app.clientId).toBe(app.clientId);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, rotated.clientSecret)).toBe(true);
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, old ?? '')).toBe(false);
    const audit = await listAuditEvents(db, acme.id, { targetId: app.id });
    expect(audit.at(-1)).toMatchObject({
      action: 'oidc_app.secret_rotated',
      actor: { type: 'operator', id: 'alice' },
      requestId: 'req-apps',
    });
    // The audit trail never holds a secret.
    expect(JSON.stringify(audit)).not.toContain('roster_cs_');
  });

  it('removes an app: gone from the list and its secret stops working', async () => {
    const { app, clientSecret } = await addOidcApp(db, acme.id, wiki, operator);
    const removed = await removeOidcApp(db, acme.id, app.clientId, operator);
    expect(removed.clientId).toBe(app.clientId);
    expect(await findOidcApp(db, acme.id, app.clientId)).toBeUndefined();
    expect(await verifyOidcAppSecret(db, acme.id, app.clientId, clientSecret ?? '')).toBe(false);
    await expectCoreError(removeOidcApp(db, acme.id, app.clientId, operator), 'NotFound');
    await expectCoreError(rotateOidcAppSecret(db, acme.id, app.clientId, operator), 'NotFound');
    await expectCoreError(
      updateOidcApp(db, acme.id, app.clientId, { name: 'x' }, operator),
      'NotFound',
    );
    const audit = await listAuditEvents(db, acme.id, { targetId: app.id });
    expect(audit.at(-1)?.action).toBe('oidc_app.removed');
  });

  it('goes away with its tenant', async () => {
    const doomed = await createTenant(db, 'doomed', operator);
    await addOidcApp(db, doomed.id, wiki, operator);
    await db.deleteFrom('tenants').where('id', '=', doomed.id).execute();
    expect(await listOidcApps(db, doomed.id)).toEqual([]);
  });
});
