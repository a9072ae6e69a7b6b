import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { openDatabase, type RosterDatabase } from '../db/create-db.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { deactivateUser, restoreUser } from './lifecycle.js';
import {
  createUserFromScim,
  deleteUserFromScim,
  patchUserFromScim,
} from './provision-from-scim.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';

const DAY = 86_400_000;
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const operator: ChangeContext = { actor: { type: 'operator', id: 'ops' } };
let database: TestDatabase;
let second: RosterDatabase;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  second = database.target.kind === 'postgres' ? await openDatabase(database.target) : database;
});
afterAll(async () => {
  if (second !== database) await second.close();
  await database.close();
});

async function tenantWithIdp() {
  n += 1;
  const tenant = await createTenant(database.db, `life-${n}`, operator);
  const { id: idpId } = await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'idp',
      entity_id: `https://idp/${n}`,
      sso_url: 'https://idp/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { tenantId: tenant.id, idpId };
}

describe('SCIM PATCH through core', () => {
  it('applies concurrent patches one after the other, losing none', async () => {
    const { tenantId } = await tenantWithIdp();
    const clock = fixedClock();
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'pat@example.com', displayName: '' },
      scim,
      clock,
    );
    const appendLetter =
      (letter: string) => (current: { userName: string; displayName: string | null }) => ({
        userName: current.userName,
        displayName: `${current.displayName ?? ''}${letter}`,
      });
    await Promise.all(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((letter, i) =>
        patchUserFromScim(
          (i % 2 ? second : database).db,
          tenantId,
          user.id,
          appendLetter(letter),
          scim,
          clock,
        ),
      ),
    );
    const after = await database.db
      .selectFrom('users')
      .select(['display_name', 'version'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect([...(after.display_name ?? '')].sort().join('')).toBe('abcdef');
    expect(after.version).toBe(7);
  });

  it('refuses a write against a version the caller did not see, and writes nothing', async () => {
    const { tenantId } = await tenantWithIdp();
    const clock = fixedClock();
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'etag@example.com' },
      scim,
      clock,
    );
    const rename = () => ({ userName: 'etag@example.com', displayName: 'New' });
    await expect(
      patchUserFromScim(database.db, tenantId, user.id, rename, scim, clock, { ifMatchVersion: 2 }),
    ).rejects.toMatchObject({
      code: 'PreconditionFailed',
    });
    const updated = await patchUserFromScim(database.db, tenantId, user.id, rename, scim, clock, {
      ifMatchVersion: 1,
    });
    expect(updated).toMatchObject({ displayName: 'New', version: 2 });
  });

  it('rejects a patch that empties userName, writing nothing', async () => {
    const { tenantId } = await tenantWithIdp();
    const clock = fixedClock();
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'keep@example.com' },
      scim,
      clock,
    );
    await expect(
      patchUserFromScim(database.db, tenantId, user.id, () => ({ userName: '' }), scim, clock),
    ).rejects.toMatchObject({ code: 'Invalid' });
    expect(
      (
        await database.db
          .selectFrom('users')
          .select('version')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow()
      ).version,
    ).toBe(1);
  });
});

describe('operator lifecycle', () => {
  it('deactivates a user, ending its sessions in the same transaction', async () => {
    const { tenantId, idpId } = await tenantWithIdp();
    const clock = fixedClock();
    const signedIn = await signInWithSaml(
      database.db,
      tenantId,
      idpId,
      { nameId: 'op@example.com' },
      scim,
      clock,
    );
    if (signedIn.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const out = await deactivateUser(database.db, tenantId, signedIn.user.id, operator, clock);
    expect(out).toMatchObject({ state: 'inactive', inactiveReason: 'operator' });
    const sessions = await sql<{
      n: number;
    }>`select count(*)::int as n from sessions where user_id = ${signedIn.user.id}`.execute(
      database.db,
    );
    expect(sessions.rows[0]?.n).toBe(0);
    expect(
      await signInWithSaml(database.db, tenantId, idpId, { nameId: 'op@example.com' }, scim, clock),
    ).toMatchObject({ outcome: 'refused' });
  });

  it('restores a deprovisioned user within its grace period, and refuses after it', async () => {
    const { tenantId } = await tenantWithIdp();
    const clock = fixedClock();
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: 'back@example.com' },
      scim,
      clock,
    );
    await deleteUserFromScim(database.db, tenantId, user.id, scim, clock);
    clock.advance(5 * DAY);
    expect(await restoreUser(database.db, tenantId, user.id, operator, clock)).toMatchObject({
      id: user.id,
      state: 'active',
      purgeAfter: null,
    });
    await deleteUserFromScim(database.db, tenantId, user.id, scim, clock);
    clock.advance(91 * DAY);
    await expect(
      restoreUser(database.db, tenantId, user.id, operator, clock),
    ).rejects.toMatchObject({ code: 'Invalid' });
  });

  it('answers an unknown user with NotFound', async () => {
    const { tenantId } = await tenantWithIdp();
    await expect(
      deactivateUser(database.db, tenantId, 'nope', operator, fixedClock()),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });
});
