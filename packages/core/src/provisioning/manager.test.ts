// A SCIM user's manager (RFC 7643 §4.3) names a user of the same tenant, checked in core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { isCoreError } from '../errors.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  createUserFromScim,
  deleteUserFromScim,
  replaceUserFromScim,
} from './provision-from-scim.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' }, requestId: 'req' };
const clock = fixedClock('2026-06-01T00:00:00Z');
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

async function refusal(write: Promise<unknown>): Promise<unknown> {
  try {
    await write;
  } catch (error) {
    return error;
  }
  throw new Error('the write was accepted');
}

describe('manager', () => {
  it('must be a user of the same tenant that is not deprovisioned', async () => {
    const { db } = database;
    const acme = await createTenant(db, 'manager-acme', { actor: { type: 'operator' } });
    const other = await createTenant(db, 'manager-other', { actor: { type: 'operator' } });
    const { user: boss } = await createUserFromScim(
      db,
      acme.id,
      { userName: 'boss@acme' },
      scim,
      clock,
    );
    const { user: outsider } = await createUserFromScim(
      db,
      other.id,
      { userName: 'outsider@other' },
      scim,
      clock,
    );
    const { user: report } = await createUserFromScim(
      db,
      acme.id,
      { userName: 'report@acme', managerId: boss.id },
      scim,
      clock,
    );

    for (const managerId of [outsider.id, 'not-an-id', '00000000-0000-4000-8000-000000000000']) {
      const error = await refusal(
        createUserFromScim(
          db,
          acme.id,
          { userName: `x-${managerId}@acme`, managerId },
          scim,
          clock,
        ),
      );
      expect(isCoreError(error, 'Invalid')).toBe(true);
      expect((error as Error).message).toMatch(/manager/);
      const replaced = await refusal(
        replaceUserFromScim(
          db,
          acme.id,
          report.id,
          { userName: 'report@acme', managerId },
          scim,
          clock,
        ),
      );
      expect(isCoreError(replaced, 'Invalid')).toBe(true);
    }

    await deleteUserFromScim(db, acme.id, boss.id, scim, clock);
    const gone = await refusal(
      replaceUserFromScim(
        db,
        acme.id,
        report.id,
        { userName: 'report@acme', managerId: boss.id },
        scim,
        clock,
      ),
    );
    expect(isCoreError(gone, 'Invalid')).toBe(true);
    // No manager at all is fine.
    const cleared = await replaceUserFromScim(
      db,
      acme.id,
      report.id,
      { userName: 'report@acme', managerId: null },
      scim,
      clock,
    );
    expect(cleared.version).toBe(2);
  });
});
