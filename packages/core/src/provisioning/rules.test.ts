// A test per rule of the README's "The rules", through the use cases, on a real database.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { createTenant, updateTenantSettings } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  createUserFromScim,
  deleteUserFromScim,
  replaceUserFromScim,
} from './provision-from-scim.js';
import { purgeExpiredUsers } from './purge.js';
import { explainSignIn, signInWithSaml } from '../saml/saml-sign-in.js';
import { sessionIdHash } from '../sessions/session.js';

const DAY = 86_400_000;
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' }, requestId: 'req-scim' };
const saml: ChangeContext = { actor: { type: 'idp', id: 'idp' }, requestId: 'req-saml' };
let database: TestDatabase;
let db: Db;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.close());

/** A fresh tenant with one IdP per test, so tests never see each other's people. */
async function world(
  idp: { jit_policy?: 'create' | 'deny'; match_by?: 'username' | 'email' | 'both' } = {},
) {
  n += 1;
  const clock = fixedClock('2026-06-01T00:00:00Z');
  const tenant = await createTenant(db, `rules-${n}`, { actor: { type: 'operator' } });
  const { id: idpId } = await db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'okta',
      entity_id: `https://idp.example/${n}`,
      sso_url: 'https://idp.example/sso',
      signing_certificates: ['x'],
      ...idp,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { tenant, idpId, clock };
}

const countUsers = async (tenantId: string) =>
  (
    await db
      .selectFrom('users')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow()
  ).n;
const liveSessions = async (userId: string) =>
  (
    await db
      .selectFrom('sessions')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow()
  ).n;
const auditActions = async (tenantId: string, targetId: string) =>
  (
    await db
      .selectFrom('audit_events')
      .select('action')
      .where('tenant_id', '=', tenantId)
      .where('target_id', '=', targetId)
      .orderBy('id')
      .execute()
  ).map((r) => r.action);

describe('rule 1: SCIM create', () => {
  it('creates a SCIM-managed user', async () => {
    const { tenant, clock } = await world();
    const { user, outcome } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'Ann@Example.com', externalId: 'e-1' },
      scim,
      clock,
    );
    expect(outcome).toBe('created');
    expect(user).toMatchObject({
      userName: 'Ann@Example.com',
      source: 'scim',
      managedBy: 'scim',
      state: 'active',
      version: 1,
    });
  });

  it('answers a duplicate of a SCIM-managed user by userName (any case) or externalId with Conflict', async () => {
    const { tenant, clock } = await world();
    await createUserFromScim(
      db,
      tenant.id,
      { userName: 'ann@example.com', externalId: 'e-1' },
      scim,
      clock,
    );
    await expect(
      createUserFromScim(db, tenant.id, { userName: 'ANN@EXAMPLE.COM' }, scim, clock),
    ).rejects.toMatchObject({ code: 'Conflict' });
    await expect(
      createUserFromScim(db, tenant.id, { userName: 'other', externalId: 'e-1' }, scim, clock),
    ).rejects.toMatchObject({ code: 'Conflict' });
    expect(await countUsers(tenant.id)).toBe(1);
  });

  it('adopts a JIT user with the same userName: same id, SCIM-managed, SCIM attributes win, links kept', async () => {
    const { tenant, idpId, clock } = await world();
    const jit = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'bob@example.com', attributes: { displayName: 'Bobby' } },
      saml,
      clock,
    );
    if (jit.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const { user, outcome } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'Bob@Example.com', displayName: 'Robert', externalId: 'e-b' },
      scim,
      clock,
    );
    expect(outcome).toBe('adopted');
    expect(user).toMatchObject({
      id: jit.user.id,
      source: 'jit',
      managedBy: 'scim',
      displayName: 'Robert',
      externalId: 'e-b',
    });
    expect(
      await db.selectFrom('saml_links').select('user_id').where('idp_id', '=', idpId).execute(),
    ).toEqual([{ user_id: jit.user.id }]);
    expect(await countUsers(tenant.id)).toBe(1);
  });

  it('adopts a JIT user whose SAML link NameID is the primary email of the SCIM user', async () => {
    const { tenant, idpId, clock } = await world();
    const jit = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'carol@example.com', attributes: { userName: 'carol' } },
      saml,
      clock,
    );
    if (jit.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const { user, outcome } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'c.jones', emails: [{ value: 'Carol@example.com', primary: true }] },
      scim,
      clock,
    );
    expect({ outcome, id: user.id }).toEqual({ outcome: 'adopted', id: jit.user.id });
  });

  it('adopts a JIT user at the first SCIM PUT too', async () => {
    const { tenant, idpId, clock } = await world();
    const jit = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'dan@example.com' },
      saml,
      clock,
    );
    if (jit.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const user = await replaceUserFromScim(
      db,
      tenant.id,
      jit.user.id,
      { userName: 'dan@example.com', displayName: 'Dan' },
      scim,
      clock,
    );
    expect(user).toMatchObject({ id: jit.user.id, managedBy: 'scim', displayName: 'Dan' });
    expect(await auditActions(tenant.id, jit.user.id)).toContain('user.adopted');
  });
});

describe('rule 2: SAML sign-in', () => {
  it('creates a JIT user at the first sign-in and links it, then finds it by the link', async () => {
    const { tenant, idpId, clock } = await world();
    const first = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'eve@example.com' },
      saml,
      clock,
    );
    expect(first).toMatchObject({
      outcome: 'signed_in',
      created: true,
      linked: true,
      matchedBy: 'created',
    });
    const again = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'eve@example.com' },
      saml,
      clock,
    );
    expect(again).toMatchObject({ outcome: 'signed_in', created: false, matchedBy: 'samlLink' });
    expect(await countUsers(tenant.id)).toBe(1);
  });

  it('links a SCIM-pushed user at its first sign-in and creates nothing', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'fay@example.com' },
      scim,
      clock,
    );
    const result = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'FAY@example.com' },
      saml,
      clock,
    );
    expect(result).toMatchObject({
      outcome: 'signed_in',
      created: false,
      linked: true,
      matchedBy: 'userName',
    });
    if (result.outcome === 'signed_in') expect(result.user.id).toBe(user.id);
    expect(await countUsers(tenant.id)).toBe(1);
  });

  it('under the deny policy refuses an unknown person, writing only the refusal to the audit trail', async () => {
    const { tenant, idpId, clock } = await world({ jit_policy: 'deny' });
    const result = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'gus@example.com' },
      saml,
      clock,
    );
    expect(result).toMatchObject({ outcome: 'refused', reason: 'not_provisioned' });
    expect(await countUsers(tenant.id)).toBe(0);
    expect(await auditActions(tenant.id, 'gus@example.com')).toEqual(['sign_in.refused']);
  });

  it('refreshes a JIT user from every assertion, and never overwrites a SCIM-managed one', async () => {
    const { tenant, idpId, clock } = await world();
    await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'hal@example.com', attributes: { displayName: 'Hal' } },
      saml,
      clock,
    );
    const refreshed = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'hal@example.com', attributes: { displayName: 'Hal 9000' } },
      saml,
      clock,
    );
    expect(refreshed).toMatchObject({
      outcome: 'signed_in',
      refreshed: true,
      user: { displayName: 'Hal 9000' },
    });

    await createUserFromScim(
      db,
      tenant.id,
      { userName: 'ida@example.com', displayName: 'Ida (SCIM)' },
      scim,
      clock,
    );
    const kept = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'ida@example.com', attributes: { displayName: 'Ida (SAML)' } },
      saml,
      clock,
    );
    expect(kept).toMatchObject({
      outcome: 'signed_in',
      refreshed: false,
      user: { displayName: 'Ida (SCIM)' },
    });
  });

  it('never links a transient NameID', async () => {
    const { tenant, idpId, clock } = await world();
    const result = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      {
        nameId: '_a1b2c3',
        nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
        attributes: { userName: 'ivy@example.com' },
      },
      saml,
      clock,
    );
    expect(result).toMatchObject({ outcome: 'signed_in', linked: false });
    expect(
      await db.selectFrom('saml_links').selectAll().where('idp_id', '=', idpId).execute(),
    ).toEqual([]);
  });

  it('explains a sign-in without writing anything', async () => {
    const { tenant, idpId, clock } = await world();
    await createUserFromScim(db, tenant.id, { userName: 'jo@example.com' }, scim, clock);
    const before = await db
      .selectFrom('audit_events')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    const explained = await explainSignIn(db, tenant.id, idpId, { nameId: 'jo@example.com' });
    expect(explained.decision).toMatchObject({
      kind: 'sign_in',
      matchedBy: 'userName',
      link: true,
    });
    expect(
      await db
        .selectFrom('audit_events')
        .select(sql<number>`count(*)::int`.as('n'))
        .executeTakeFirstOrThrow(),
    ).toEqual(before);
    expect(
      await db.selectFrom('saml_links').selectAll().where('idp_id', '=', idpId).execute(),
    ).toEqual([]);
  });
});

describe('rules 3 and 4: inactive means out, at once', () => {
  it('SCIM active:false ends live sessions in the same transaction and refuses the next sign-in', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'kim@example.com' },
      scim,
      clock,
    );
    const signedIn = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'kim@example.com' },
      saml,
      clock,
    );
    if (signedIn.outcome !== 'signed_in') throw new Error('expected a sign-in');
    expect(await liveSessions(user.id)).toBe(1);
    const deactivated = await replaceUserFromScim(
      db,
      tenant.id,
      user.id,
      { userName: 'kim@example.com', active: false },
      scim,
      clock,
    );
    expect(deactivated).toMatchObject({ state: 'inactive', inactiveReason: 'scim', active: false });
    expect(await liveSessions(user.id)).toBe(0);
    expect(
      await db
        .selectFrom('sessions')
        .selectAll()
        .where('id_hash', '=', sessionIdHash(signedIn.session.token))
        .execute(),
    ).toEqual([]);
    expect(
      await signInWithSaml(db, tenant.id, idpId, { nameId: 'kim@example.com' }, saml, clock),
    ).toMatchObject({ outcome: 'refused', reason: 'inactive' });
  });

  it('JIT never reactivates a user SCIM deactivated, while SCIM can', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'lea@example.com', active: false },
      scim,
      clock,
    );
    expect(
      await signInWithSaml(db, tenant.id, idpId, { nameId: 'lea@example.com' }, saml, clock),
    ).toMatchObject({ outcome: 'refused' });
    expect(
      (
        await replaceUserFromScim(
          db,
          tenant.id,
          user.id,
          { userName: 'lea@example.com', active: true },
          scim,
          clock,
        )
      ).state,
    ).toBe('active');
    expect(
      await signInWithSaml(db, tenant.id, idpId, { nameId: 'lea@example.com' }, saml, clock),
    ).toMatchObject({ outcome: 'signed_in' });
  });
});

describe("Entra ID's soft delete", () => {
  it('renames userName to <objectId><UPN> with active:false: the same person, deactivated, not a new identity', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'ray@example.com', externalId: 'oid-1' },
      scim,
      clock,
    );
    const renamed = `5d2e0c3b7f4a4e8e9b1c2d3e4f5a6b7c${'ray@example.com'}`;
    const after = await replaceUserFromScim(
      db,
      tenant.id,
      user.id,
      { userName: renamed, externalId: 'oid-1', active: false },
      scim,
      clock,
    );
    expect(after).toMatchObject({ id: user.id, userName: renamed, state: 'inactive' });
    expect(await countUsers(tenant.id)).toBe(1);
    const event = await db
      .selectFrom('audit_events')
      .select('changes')
      .where('target_id', '=', user.id)
      .where('action', '=', 'user.deactivated')
      .executeTakeFirstOrThrow();
    expect(event.changes).toMatchObject({ entraSoftDelete: true });
    // Restored from Entra's recycle bin: the same id again, active.
    const back = await replaceUserFromScim(
      db,
      tenant.id,
      user.id,
      { userName: 'ray@example.com', externalId: 'oid-1', active: true },
      scim,
      clock,
    );
    expect(back).toMatchObject({ id: user.id, state: 'active' });
    expect(
      await signInWithSaml(db, tenant.id, idpId, { nameId: 'ray@example.com' }, saml, clock),
    ).toMatchObject({ outcome: 'signed_in', created: false });
  });
});

describe('rule 5: SCIM DELETE deprovisions; a create within the grace period restores', () => {
  it('deprovisions with a purge date from the tenant grace period, ends sessions and refuses sign-in', async () => {
    const { tenant, idpId, clock } = await world();
    await updateTenantSettings(db, tenant.slug, { gracePeriodDays: 30 }, scim);
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'max@example.com', externalId: 'm' },
      scim,
      clock,
    );
    await signInWithSaml(db, tenant.id, idpId, { nameId: 'max@example.com' }, saml, clock);
    const gone = await deleteUserFromScim(db, tenant.id, user.id, scim, clock);
    expect(gone).toMatchObject({
      state: 'deprovisioned',
      purgeAfter: new Date(clock.now().getTime() + 30 * DAY),
    });
    expect(await liveSessions(user.id)).toBe(0);
    await expect(deleteUserFromScim(db, tenant.id, user.id, scim, clock)).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expect(
      replaceUserFromScim(db, tenant.id, user.id, { userName: 'max@example.com' }, scim, clock),
    ).rejects.toMatchObject({ code: 'NotFound' });
    expect(
      await signInWithSaml(db, tenant.id, idpId, { nameId: 'max@example.com' }, saml, clock),
    ).toMatchObject({ outcome: 'refused', reason: 'deprovisioned' });
  });

  it('restores the same id, links and history when SCIM creates the person again within the grace period', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'ned@example.com', externalId: 'n' },
      scim,
      clock,
    );
    await signInWithSaml(db, tenant.id, idpId, { nameId: 'ned@example.com' }, saml, clock);
    await deleteUserFromScim(db, tenant.id, user.id, scim, clock);
    clock.advance(10 * DAY);
    const { user: back, outcome } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'ned@example.com', externalId: 'n' },
      scim,
      clock,
    );
    expect({ outcome, id: back.id, state: back.state, purgeAfter: back.purgeAfter }).toEqual({
      outcome: 'restored',
      id: user.id,
      state: 'active',
      purgeAfter: null,
    });
    expect(
      await db.selectFrom('saml_links').select('user_id').where('idp_id', '=', idpId).execute(),
    ).toEqual([{ user_id: user.id }]);
    expect(await auditActions(tenant.id, user.id)).toEqual(
      expect.arrayContaining(['user.created', 'user.deprovisioned', 'user.restored']),
    );
  });

  it('purges after the grace period: user, links and sessions gone; the audit trail keeps ids only', async () => {
    const { tenant, idpId, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'oz@example.com', displayName: 'Oz' },
      scim,
      clock,
    );
    await signInWithSaml(db, tenant.id, idpId, { nameId: 'oz@example.com' }, saml, clock);
    await deleteUserFromScim(db, tenant.id, user.id, scim, clock);
    expect((await purgeExpiredUsers(db, clock, { tenantId: tenant.id })).purged).toBe(0);
    clock.advance(91 * DAY);
    expect(await purgeExpiredUsers(db, clock, { tenantId: tenant.id, dryRun: true })).toEqual({
      purged: 1,
      dryRun: true,
      remaining: 0,
    });
    expect(await countUsers(tenant.id)).toBe(1);
    expect(await purgeExpiredUsers(db, clock, { tenantId: tenant.id })).toEqual({
      purged: 1,
      dryRun: false,
      remaining: 0,
    });
    expect(await countUsers(tenant.id)).toBe(0);
    expect(
      await db.selectFrom('saml_links').selectAll().where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    const trail = await db
      .selectFrom('audit_events')
      .select(['action', 'changes'])
      .where('target_id', '=', user.id)
      .orderBy('id')
      .execute();
    expect(trail.at(-1)?.action).toBe('user.purged');
    expect(JSON.stringify(trail)).not.toContain('oz@example.com');
    expect(JSON.stringify(trail)).not.toContain('"Oz"');
  });
});

describe('rule 7: every change is audited and published in its own transaction', () => {
  it('writes an audit event with actor and request id, and an ordered outbox row, per change', async () => {
    const { tenant, clock } = await world();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: 'pia@example.com' },
      scim,
      clock,
    );
    await replaceUserFromScim(
      db,
      tenant.id,
      user.id,
      { userName: 'pia@example.com', displayName: 'Pia' },
      scim,
      clock,
    );
    const events = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('target_id', '=', user.id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => [e.action, e.actor_type, e.request_id])).toEqual([
      ['user.created', 'scim_token', 'req-scim'],
      ['user.replaced', 'scim_token', 'req-scim'],
    ]);
    expect(events[1]?.changes).toMatchObject({ displayName: { before: null, after: 'Pia' } });
    const outbox = await db
      .selectFrom('change_outbox')
      .select(['seq', 'kind'])
      .where('tenant_id', '=', tenant.id)
      .orderBy('seq')
      .execute();
    expect(outbox).toEqual([
      { seq: 1, kind: 'user.created' },
      { seq: 2, kind: 'user.replaced' },
    ]);
  });
});

describe('rule 9: bad input writes nothing', () => {
  it('refuses an empty userName or NameID', async () => {
    const { tenant, idpId, clock } = await world();
    await expect(
      createUserFromScim(db, tenant.id, { userName: '  ' }, scim, clock),
    ).rejects.toMatchObject({ code: 'Invalid' });
    await expect(
      signInWithSaml(db, tenant.id, idpId, { nameId: '' }, saml, clock),
    ).rejects.toMatchObject({ code: 'Invalid' });
    expect(await countUsers(tenant.id)).toBe(0);
  });

  it('answers an unknown or malformed id with NotFound', async () => {
    const { tenant, clock } = await world();
    await expect(
      replaceUserFromScim(db, tenant.id, 'nope', { userName: 'x' }, scim, clock),
    ).rejects.toMatchObject({ code: 'NotFound' });
    await expect(
      deleteUserFromScim(db, tenant.id, '00000000-0000-4000-8000-000000000000', scim, clock),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });
});
