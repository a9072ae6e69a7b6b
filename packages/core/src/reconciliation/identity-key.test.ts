// One normalisation of identity keys for both doors: SCIM's userName and SAML's NameID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { identityKey } from './identity-key.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' }, requestId: 'req-scim' };
const saml: ChangeContext = { actor: { type: 'idp', id: 'idp' }, requestId: 'req-saml' };
const clock = fixedClock('2026-06-01T00:00:00Z');

describe('identityKey', () => {
  it('ignores surrounding white space, case and the Unicode form', () => {
    expect(identityKey(' Ann@Example.com ')).toBe('ann@example.com');
    expect(identityKey('\tann@example.com\u00a0\u3000')).toBe('ann@example.com');
    expect(identityKey('e\u0301lo\u00efse@example.com')).toBe(
      identityKey('\u00e9lo\u00efse@example.com'),
    );
    // white space inside is part of the identifier
    expect(identityKey('ann smith')).not.toBe(identityKey('annsmith'));
  });
});

describe('both doors', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('take " ann@x " and "ann@x" for one person', async () => {
    const { db } = database;
    const tenant = await createTenant(db, 'identity-keys', { actor: { type: 'operator' } });
    const { id: idpId } = await db
      .insertInto('saml_idps')
      .values({
        tenant_id: tenant.id,
        name: 'okta',
        entity_id: 'https://idp.example/keys',
        sso_url: 'https://idp.example/sso',
        signing_certificates: ['x'],
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { user } = await createUserFromScim(
      db,
      tenant.id,
      { userName: ' ann@example.com ' },
      scim,
      clock,
    );
    await expect(
      createUserFromScim(db, tenant.id, { userName: 'ann@example.com' }, scim, clock),
    ).rejects.toMatchObject({ code: 'Conflict' });
    const signIn = await signInWithSaml(
      db,
      tenant.id,
      idpId,
      { nameId: 'ann@example.com' },
      saml,
      clock,
    );
    expect(signIn).toMatchObject({ outcome: 'signed_in', user: { id: user.id } });
  });
});
