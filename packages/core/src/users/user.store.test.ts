// The purge job selects its users in SQL; the rule is `isPurgeDue` in reconcile.ts. Both must
// take the same users, whatever their state and purge date.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeContext } from '../context/actor.js';
import type { LifecycleState } from '../db/database.js';
import { isPurgeDue } from '../reconciliation/reconcile.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { findUser } from './user.repository.js';
import { countUsersDueForPurge, lockUsersDueForPurge } from './user.store.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'tests' } };
const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const at = (days: number, ms = 0) => new Date(NOW.getTime() + days * DAY + ms);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/** Every state a user can be stored in (the table's check allows these), with purge dates around now. */
const USERS: readonly [string, LifecycleState, string | null, Date | null][] = [
  ['deprovisioned, purge date passed', 'deprovisioned', 'scim_delete', at(-1)],
  ['deprovisioned, purge date a millisecond ago', 'deprovisioned', 'scim_delete', at(0, -1)],
  ['deprovisioned, purge date now', 'deprovisioned', 'scim_delete', NOW],
  ['deprovisioned, purge date a millisecond ahead', 'deprovisioned', 'scim_delete', at(0, 1)],
  ['deprovisioned, purge date ahead', 'deprovisioned', 'scim_delete', at(30)],
  ['dormant, purge date passed', 'inactive', 'dormant', at(-1)],
  ['dormant, purge date ahead', 'inactive', 'dormant', at(1)],
  ['inactive by SCIM, no purge date', 'inactive', 'scim', null],
  ['inactive by the operator, no purge date', 'inactive', 'operator', null],
  ['active', 'active', null, null],
];

describe('the purge selection in SQL and isPurgeDue', () => {
  it('take the same users', async () => {
    const tenant = await createTenant(database.db, 'purge-agree', operator);
    const other = await createTenant(database.db, 'purge-agree-other', operator);
    const rows = await database.db
      .insertInto('users')
      .values(
        [tenant, other].flatMap((t) =>
          USERS.map(([name, state, reason, purgeAfter], i) => ({
            tenant_id: t.id,
            user_name: `user${i}@example.com`,
            user_name_key: `user${i}@example.com`,
            display_name: name,
            lifecycle_state: state,
            inactive_reason: reason,
            purge_after: purgeAfter,
            deprovisioned_at: state === 'deprovisioned' ? at(-90) : null,
            source: 'scim' as const,
            managed_by: 'scim' as const,
          })),
        ),
      )
      .returning(['id', 'tenant_id'])
      .execute();
    const expected: string[] = [];
    for (const row of rows.filter((r) => r.tenant_id === tenant.id)) {
      const user = await findUser(database.db, tenant.id, row.id, { includeDeprovisioned: true });
      if (user && isPurgeDue(user, NOW)) expected.push(user.id);
    }
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(USERS.length);

    const selected = await database.db
      .transaction()
      .execute((tx) => lockUsersDueForPurge(tx, NOW, tenant.id, 1000));
    expect(selected.map((u) => u.id).sort()).toEqual(expected.sort());
    expect(selected.every((u) => u.tenantId === tenant.id)).toBe(true);
    expect(await countUsersDueForPurge(database.db, NOW, tenant.id)).toBe(expected.length);
    // Without a tenant, both tenants' due users.
    expect(await countUsersDueForPurge(database.db, NOW, undefined)).toBe(2 * expected.length);
  });
});
