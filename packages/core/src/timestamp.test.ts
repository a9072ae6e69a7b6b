import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError } from './errors.js';
import { encodeCursor, queryFingerprint } from './search/cursor.js';
import { searchUsers } from './search/directory-search.js';
import { createTenant } from './tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from './testing/test-db.js';
import { parseTimestamp, readTimestamp } from './timestamp.js';

describe('parseTimestamp', () => {
  it.each([
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['2024-02-29T12:00:00.123456+02:00', '2024-02-29T10:00:00.123Z'],
    ['2026-06-01 00:00:00+00', '2026-06-01T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59-0130', '+010000-01-01T01:29:59.000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseTimestamp(text, 'since').toISOString()).toBe(iso);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-06-31T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+16:00',
    '2024-01-01T00:00:00+01:60',
    '+002024-01-01T00:00:00Z',
    'yesterday',
    '',
  ])('refuses %s, naming the field and the value', (text) => {
    expect(readTimestamp(text)).toBeUndefined();
    try {
      parseTimestamp(text, 'since');
      expect.unreachable();
    } catch (error) {
      expect(isCoreError(error, 'Invalid')).toBe(true);
      expect((error as Error).message).toContain('since');
      expect((error as Error).message).toContain(`"${text}"`);
    }
  });
});

describe('a list cursor holding an impossible date', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('is Invalid (a bad cursor), never a database error', async () => {
    const tenant = await createTenant(database.db, 'cursors', {
      actor: { type: 'operator', id: 'test' },
    });
    // The default order is meta.created, so the key is a timestamptz as PostgreSQL prints it.
    const cursor = encodeCursor(queryFingerprint({ resource: 'User' }), {
      direction: 'next',
      key: '2024-02-30 00:00:00+00',
      id: '00000000-0000-4000-8000-000000000000',
    });
    const search = searchUsers(database.db, tenant.id, {
      page: { kind: 'cursor', cursor, count: 10 },
    });
    await expect(search).rejects.toSatisfy(
      (error) => isCoreError(error, 'Invalid') && /cursor/.test((error as Error).message),
    );
  });
});
