import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { authenticateSession, endSession, endSessionsBySamlLogout } from './session.js';

const operator = { actor: { type: 'operator' as const, id: 't' } };
const policy = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 4 * 3_600_000 };
let database: TestDatabase;
let tenantId: string;
let idpId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'sessions', operator)).id;
  idpId = (
    await database.db
      .insertInto('saml_idps')
      .values({
        tenant_id: tenantId,
        name: 'idp',
        entity_id: 'https://idp.example/',
        sso_url: 'https://idp.example/sso',
        signing_certificates: [],
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
});
afterAll(() => database.close());

async function signIn(clock: ReturnType<typeof fixedClock>, nameId: string, sessionIndex = '_s1') {
  const result = await signInWithSaml(
    database.db,
    tenantId,
    idpId,
    {
      nameId,
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      sessionIndex,
    },
    { actor: { type: 'idp', id: idpId } },
    clock,
    policy,
  );
  if (result.outcome !== 'signed_in') throw new Error(result.reason);
  return result.session.token;
}

describe('SSO sessions', () => {
  it('live within the idle timeout, which each use pushes back, never past the absolute one', async () => {
    const clock = fixedClock('2026-05-01T08:00:00Z');
    const token = await signIn(clock, 'ann@example.com');
    const first = await authenticateSession(database.db, tenantId, token, clock, policy);
    expect(first?.user.userName).toBe('ann@example.com');
    expect(first?.session.sessionIndex).toBe('_s1');
    expect(first?.session.nameIdFormat).toMatch(/emailAddress/);
    for (let hour = 0; hour < 3; hour++) {
      clock.advance(50 * 60_000);
      expect(await authenticateSession(database.db, tenantId, token, clock, policy)).toBeDefined();
    }
    clock.advance(55 * 60_000); // 3 h 25 min after sign-in, used 55 min ago: still live
    expect(await authenticateSession(database.db, tenantId, token, clock, policy)).toBeDefined();
    clock.advance(36 * 60_000); // past the 4 h absolute lifetime, used 36 min ago
    expect(await authenticateSession(database.db, tenantId, token, clock, policy)).toBeUndefined();
  });

  it('ends after the idle timeout without use', async () => {
    const clock = fixedClock('2026-05-01T08:00:00Z');
    const token = await signIn(clock, 'bo@example.com');
    clock.advance(61 * 60_000);
    expect(await authenticateSession(database.db, tenantId, token, clock, policy)).toBeUndefined();
  });

  it('is found only in its tenant, and ended by logout or by the IdP’s LogoutRequest', async () => {
    const clock = fixedClock(new Date());
    const token = await signIn(clock, 'cy@example.com', '_cy');
    const other = await createTenant(database.db, 'elsewhere', operator);
    expect(await authenticateSession(database.db, other.id, token, clock, policy)).toBeUndefined();
    expect(
      await authenticateSession(database.db, tenantId, 'garbage', clock, policy),
    ).toBeUndefined();
    const ended = await endSession(database.db, tenantId, token);
    expect(ended?.nameId).toBe('cy@example.com');
    expect(await authenticateSession(database.db, tenantId, token, clock, policy)).toBeUndefined();
    const again = await signIn(clock, 'cy@example.com', '_cy2');
    expect(
      await endSessionsBySamlLogout(database.db, tenantId, idpId, 'cy@example.com', '_other'),
    ).toBe(0);
    expect(
      await endSessionsBySamlLogout(database.db, tenantId, idpId, 'cy@example.com', '_cy2'),
    ).toBe(1);
    expect(await authenticateSession(database.db, tenantId, again, clock, policy)).toBeUndefined();
  });
});
