// SCIM filter text -> core's SQL search, against a real database (PGlite, or PostgreSQL with DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGroupFromScim,
  createTenant,
  createUserFromScim,
  fixedClock,
  searchGroups,
  searchUsers,
  type ChangeContext,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { parseListRequest } from '../../src/list/index.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-04-01T00:00:00Z');
let database: TestDatabase;
let tenantId: string;
const ids = { ann: '', bo: '' };

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'filters', scim)).id;
  const people = [
    {
      userName: 'Ann.Lee@Example.com',
      externalId: 'aad-1',
      emails: [
        { value: 'ann@work.example', type: 'work', primary: true },
        { value: 'ann@home.example', type: 'home' },
      ],
      extra: {
        title: 'Engineer',
        [ENTERPRISE]: { employeeNumber: '701', manager: { value: 'boss-1' } },
      },
    },
    {
      userName: 'bo@example.com',
      externalId: 'AAD-2',
      emails: [
        { value: 'bo@home.example', type: 'work' },
        { value: 'bo@work.example', type: 'home' },
      ],
      extra: { title: 'Lead', [ENTERPRISE]: { employeeNumber: '702' } },
    },
  ];
  for (const p of people) {
    clock.advance(60_000);
    const { extra, ...attributes } = p;
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { ...attributes, scimResource: { userName: p.userName, emails: p.emails, ...extra } },
      scim,
      clock,
    );
    ids[p.userName.startsWith('Ann') ? 'ann' : 'bo'] = user.id;
  }
  await createGroupFromScim(database.db, tenantId, { displayName: 'Eng' }, [ids.ann], scim, clock);
  await createGroupFromScim(
    database.db,
    tenantId,
    { displayName: 'All' },
    [ids.ann, ids.bo],
    scim,
    clock,
  );
});
afterAll(() => database.close());

const users = async (params: Record<string, unknown>) =>
  (await searchUsers(database.db, tenantId, parseListRequest(params, 'User').query)).items.map(
    (u) => u.userName.toLowerCase(),
  );

describe('SCIM filters run in SQL', () => {
  it.each([
    ['userName eq "ANN.LEE@example.COM"', ['ann.lee@example.com']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bo@example.com"', ['bo@example.com']],
    ['externalId eq "aad-2"', []],
    ['externalId eq "AAD-2"', ['bo@example.com']],
    ['emails[type eq "work"].value eq "ann@work.example"', ['ann.lee@example.com']],
    ['emails[type eq "work"].value eq "bo@work.example"', []],
    ['emails[type eq "work" and value co "work.example"]', ['ann.lee@example.com']],
    ['emails.type eq "work" and emails.value co "bo@work"', ['bo@example.com']],
    ['emails co "home.example"', ['ann.lee@example.com', 'bo@example.com']],
    [`${ENTERPRISE}:manager.value eq "BOSS-1"`, ['ann.lee@example.com']],
    [`${ENTERPRISE}:employeeNumber gt "701"`, ['bo@example.com']],
    [
      'not (title eq "engineer") and meta.lastModified gt "2026-01-01T00:00:00Z"',
      ['bo@example.com'],
    ],
    ['groups.display eq "eng"', ['ann.lee@example.com']],
  ])('%s', async (filter, expected) => {
    expect(await users({ filter })).toEqual(expected);
  });

  it('sorts and pages as asked', async () => {
    expect(await users({ sortBy: 'userName', sortOrder: 'descending' })).toEqual([
      'bo@example.com',
      'ann.lee@example.com',
    ]);
    const first = await searchUsers(
      database.db,
      tenantId,
      parseListRequest({ cursor: '', count: '1' }, 'User').query,
    );
    expect(first.totalResults).toBe(2);
    expect(first.nextCursor).toBeDefined();
    const second = await searchUsers(
      database.db,
      tenantId,
      parseListRequest({ cursor: first.nextCursor, count: '1' }, 'User').query,
    );
    expect(second.items.map((u) => u.id)).toEqual([ids.bo]);
    expect(second.nextCursor).toBeUndefined();
    // a cursor issued for another sort order is invalidCursor before any query runs
    expect(() => parseListRequest({ cursor: first.nextCursor, sortBy: 'title' }, 'User')).toThrow(
      expect.objectContaining({ scimType: 'invalidCursor' }),
    );
  });

  it('filters groups by member', async () => {
    const request = parseListRequest(
      { filter: `members[value eq "${ids.bo}"]`, excludedAttributes: 'members' },
      'Group',
    );
    expect(request.projection.excludesMembers).toBe(true);
    const page = await searchGroups(database.db, tenantId, request.query);
    expect(page.items.map((g) => g.displayName)).toEqual(['All']);
  });
});
