// rule 8: any interleaving of SCIM requests and sign-ins for one person leaves exactly
// one user. On PostgreSQL the racers use separate pools (separate connections, as separate
// instances would); on the embedded engine the same races run through its one session.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { openDatabase, type RosterDatabase } from '../db/create-db.js';
import type { Db } from '../db/transaction.js';
import { isCoreError } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  createUserFromScim,
  deleteUserFromScim,
  replaceUserFromScim,
} from './provision-from-scim.js';
import { purgeExpiredUsers } from './purge.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const saml: ChangeContext = { actor: { type: 'idp', id: 'idp' } };
const clock = fixedClock('2026-06-01T00:00:00Z');
let database: TestDatabase;
let pools: RosterDatabase[];
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  pools =
    database.target.kind === 'postgres'
      ? await Promise.all([1, 2, 3].map(() => openDatabase(database.target)))
      : [database];
});
afterAll(async () => {
  if (database.target.kind === 'postgres') await Promise.all(pools.map((p) => p.close()));
  await database.close();
});

const poolFor = (i: number): Db => (pools[i % pools.length] as RosterDatabase).db;

async function world() {
  n += 1;
  const tenant = await createTenant(database.db, `race-${n}`, { actor: { type: 'operator' } });
  const { id: idpId } = await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'idp',
      entity_id: `https://idp.example/${n}`,
      sso_url: 'https://idp.example/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { tenantId: tenant.id, idpId };
}

/** Runs the racers, expecting each to succeed or to fail with one of `allowed` core error codes. */
async function race(racers: (() => Promise<unknown>)[], allowed: string[] = []) {
  const results = await Promise.allSettled(racers.map((racer) => racer()));
  for (const result of results) {
    if (
      result.status === 'rejected' &&
      !(isCoreError(result.reason) && allowed.includes(result.reason.code))
    )
      throw result.reason;
  }
  return results;
}

/** Every interleaving order we try: SCIM first, SAML first, alternating, and reversed. */
const ORDERS = ['scim-first', 'saml-first', 'alternating'] as const;

describe('concurrent SCIM creates and sign-ins for one person', () => {
  it.each(ORDERS)('leave exactly one user with consistent links (%s)', async (order) => {
    for (let round = 0; round < 5; round++) {
      const { tenantId, idpId } = await world();
      const person = `racer${round}@example.com`;
      const scimCreate = (i: number) =>
        Object.assign(
          () =>
            createUserFromScim(
              poolFor(i),
              tenantId,
              { userName: person, externalId: `ext-${round}` },
              scim,
              clock,
            ),
          { door: 'scim' },
        );
      const signIn = (i: number) =>
        Object.assign(
          () => signInWithSaml(poolFor(i), tenantId, idpId, { nameId: person }, saml, clock),
          { door: 'saml' },
        );
      const racers =
        order === 'scim-first'
          ? [scimCreate(0), scimCreate(1), scimCreate(2), signIn(0), signIn(1), signIn(2)]
          : order === 'saml-first'
            ? [signIn(0), signIn(1), signIn(2), scimCreate(0), scimCreate(1), scimCreate(2)]
            : [scimCreate(0), signIn(1), scimCreate(2), signIn(0), scimCreate(1), signIn(2)];
      // A SCIM create after another SCIM create (of a now SCIM-managed user) is a 409: allowed.
      const results = await race(racers, ['Conflict']);

      const users = await database.db
        .selectFrom('users')
        .select(['id', 'managed_by'])
        .where('tenant_id', '=', tenantId)
        .execute();
      expect(users).toHaveLength(1);
      const [user] = users;
      expect(user?.managed_by).toBe('scim');
      const links = await database.db
        .selectFrom('saml_links')
        .select('user_id')
        .where('idp_id', '=', idpId)
        .execute();
      expect(links).toEqual([{ user_id: user?.id }]);
      // Every sign-in succeeded, onto that one user; at least one SCIM create succeeded.
      const byDoor = (door: string) => results.filter((_, i) => racers[i]?.door === door);
      expect(byDoor('scim').filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(
        1,
      );
      expect(
        byDoor('saml').every(
          (r) =>
            r.status === 'fulfilled' && (r.value as { outcome: string }).outcome === 'signed_in',
        ),
      ).toBe(true);
      const sessions = await database.db
        .selectFrom('sessions')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .execute();
      expect(sessions).toHaveLength(3);
      expect(new Set(sessions.map((s) => s.user_id))).toEqual(new Set([user?.id]));
    }
  });
});

describe('concurrent deactivation and sign-ins', () => {
  it('leave no live session once the deactivation committed', async () => {
    for (let round = 0; round < 5; round++) {
      const { tenantId, idpId } = await world();
      const person = `quitter${round}@example.com`;
      const { user } = await createUserFromScim(
        database.db,
        tenantId,
        { userName: person },
        scim,
        clock,
      );
      const signIn = (i: number) => () =>
        signInWithSaml(poolFor(i), tenantId, idpId, { nameId: person }, saml, clock);
      const deactivate = () =>
        replaceUserFromScim(
          poolFor(1),
          tenantId,
          user.id,
          { userName: person, active: false },
          scim,
          clock,
        );
      await race([signIn(0), signIn(1), deactivate, signIn(2), signIn(0)]);
      const live = await database.db
        .selectFrom('sessions')
        .select('id_hash')
        .where('user_id', '=', user.id)
        .execute();
      expect(live).toEqual([]);
      expect(
        await signInWithSaml(database.db, tenantId, idpId, { nameId: person }, saml, clock),
      ).toMatchObject({ outcome: 'refused', reason: 'inactive' });
    }
  });

  it('leave no live session once a SCIM delete committed', async () => {
    const { tenantId, idpId } = await world();
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'leaver@example.com' },
      scim,
      clock,
    );
    const signIn = (i: number) => () =>
      signInWithSaml(poolFor(i), tenantId, idpId, { nameId: 'leaver@example.com' }, saml, clock);
    await race([
      signIn(0),
      () => deleteUserFromScim(poolFor(1), tenantId, user.id, scim, clock),
      signIn(2),
      signIn(1),
    ]);
    expect(
      await database.db
        .selectFrom('sessions')
        .select('id_hash')
        .where('user_id', '=', user.id)
        .execute(),
    ).toEqual([]);
  });
});

describe('purge with two job runners at once', () => {
  it('purges each user exactly once', async () => {
    const { tenantId } = await world();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { user } = await createUserFromScim(
        database.db,
        tenantId,
        { userName: `gone${i}@example.com` },
        scim,
        clock,
      );
      await deleteUserFromScim(database.db, tenantId, user.id, scim, clock);
      ids.push(user.id);
    }
    const later = fixedClock(new Date(clock.now().getTime() + 91 * 86_400_000));
    const [a, b] = await Promise.all([
      purgeExpiredUsers(poolFor(0), later, { tenantId, batchSize: 3 }),
      purgeExpiredUsers(poolFor(1), later, { tenantId, batchSize: 3 }),
    ]);
    expect(a.purged + b.purged).toBe(40);
    // A run cut short reports what is left.
    expect(a.remaining + b.remaining).toBe(0);
    const purgedEvents = await database.db
      .selectFrom('audit_events')
      .select(['target_id', sql<number>`count(*)::int`.as('n')])
      .where('tenant_id', '=', tenantId)
      .where('action', '=', 'user.purged')
      .groupBy('target_id')
      .execute();
    expect(purgedEvents).toHaveLength(40);
    expect(purgedEvents.every((e) => e.n === 1)).toBe(true);
    expect(new Set(purgedEvents.map((e) => e.target_id))).toEqual(new Set(ids));
  });
});
