import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { deactivateDormantUsers } from './cleanup.js';
import { createUserFromScim } from './provision-from-scim.js';
import { purgeExpiredUsers } from './purge.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';

const DAY = 86_400_000;
const ctx: ChangeContext = { actor: { type: 'operator' } };
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

describe('rule 6: cleanup of dormant JIT users', () => {
  it('deactivates JIT users idle past the tenant setting, leaves adopted and recent ones, then purges after the grace period', async () => {
    const db = database.db;
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const tenant = await createTenant(db, 'cleanup', ctx, {
      cleanupAfterDays: 30,
      gracePeriodDays: 10,
    });
    const quiet = await createTenant(db, 'no-cleanup', ctx);
    const idps = await Promise.all(
      [tenant, quiet].map((t, i) =>
        db
          .insertInto('saml_idps')
          .values({
            tenant_id: t.id,
            name: 'idp',
            entity_id: `https://idp/${i}`,
            sso_url: 'https://idp/sso',
            signing_certificates: ['x'],
          })
          .returning('id')
          .executeTakeFirstOrThrow(),
      ),
    );
    const signIn = (t: number, nameId: string) =>
      signInWithSaml(db, [tenant, quiet][t]?.id ?? '', idps[t]?.id ?? '', { nameId }, ctx, clock);
    const idle = await signIn(0, 'idle@example.com');
    await signIn(0, 'adopted@example.com');
    await createUserFromScim(db, tenant.id, { userName: 'adopted@example.com' }, ctx, clock);
    const elsewhere = await signIn(1, 'idle@example.com');
    clock.advance(20 * DAY);
    await signIn(0, 'recent@example.com');
    clock.advance(11 * DAY); // idle: 31 days, recent: 11 days

    expect(await deactivateDormantUsers(db, clock)).toEqual({ deactivated: 1 });
    const users = await db
      .selectFrom('users')
      .select(['user_name', 'lifecycle_state', 'inactive_reason', 'tenant_id'])
      .orderBy('user_name')
      .execute();
    expect(users.filter((u) => u.tenant_id === tenant.id)).toEqual([
      {
        user_name: 'adopted@example.com',
        lifecycle_state: 'active',
        inactive_reason: null,
        tenant_id: tenant.id,
      },
      {
        user_name: 'idle@example.com',
        lifecycle_state: 'inactive',
        inactive_reason: 'dormant',
        tenant_id: tenant.id,
      },
      {
        user_name: 'recent@example.com',
        lifecycle_state: 'active',
        inactive_reason: null,
        tenant_id: tenant.id,
      },
    ]);
    if (elsewhere.outcome !== 'signed_in' || idle.outcome !== 'signed_in')
      throw new Error('expected sign-ins');
    expect(users.find((u) => u.tenant_id === quiet.id)?.lifecycle_state).toBe('active');
    expect(await signIn(0, 'idle@example.com')).toMatchObject({
      outcome: 'refused',
      reason: 'inactive',
    });
    expect(await deactivateDormantUsers(db, clock)).toEqual({ deactivated: 0 });

    clock.advance(11 * DAY);
    expect(await purgeExpiredUsers(db, clock)).toEqual({ purged: 1, dryRun: false, remaining: 0 });
    expect(
      await db.selectFrom('users').select('id').where('id', '=', idle.user.id).execute(),
    ).toEqual([]);
  });
});
