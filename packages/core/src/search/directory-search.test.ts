import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { isCoreError } from '../errors.js';
import {
  createGroupFromScim,
  deleteGroupFromScim,
  updateGroupFromScim,
} from '../provisioning/provision-groups.js';
import { createUserFromScim, deleteUserFromScim } from '../provisioning/provision-from-scim.js';
import { restoreUser } from '../provisioning/lifecycle.js';
import { purgeExpiredUsers } from '../provisioning/purge.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import type { User, UserAttributes } from '../users/user.js';
import { searchGroups, searchUsers, unfilteredCount } from './directory-search.js';
import type {
  AttributeRef,
  AttributeType,
  DirectoryQuery,
  Filter,
  FilterOperator,
} from './filter.js';
import { groupsOfUsers, listGroupMembers } from '../groups/group-member.repository.js';

const DAY = 86_400_000;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CUSTOM = 'urn:example:params:scim:schemas:extension:test:2.0:User';
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-03-01T00:00:00Z');
let database: TestDatabase;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

// ---- attribute refs as the SCIM adapter resolves them ------------------------------------------
type Spec = Partial<Omit<AttributeRef, 'path'>>;
function ref(path: string, spec: Spec = {}): AttributeRef {
  const [first, second] = path.split('.') as [string, string | undefined];
  return {
    schema: spec.schema ?? '',
    path: second === undefined ? [first] : [first, second],
    type: spec.type ?? 'string',
    caseExact: spec.caseExact ?? false,
    multiValued: spec.multiValued ?? false,
  };
}
const exact = { caseExact: true };
const multi = { multiValued: true };
const typed = (type: AttributeType, more: Spec = {}): Spec => ({ type, ...more });
const cmp = (
  attribute: AttributeRef,
  op: FilterOperator,
  value?: string | number | boolean | null,
): Filter =>
  value === undefined
    ? { kind: 'compare', attribute, op }
    : { kind: 'compare', attribute, op, value };
const and = (...filters: Filter[]): Filter => ({ kind: 'and', filters });
const or = (...filters: Filter[]): Filter => ({ kind: 'or', filters });
const not = (filter: Filter): Filter => ({ kind: 'not', filter });
const element = (attribute: string, filter: Filter, schema = ''): Filter => ({
  kind: 'element',
  attribute,
  schema,
  filter,
});

const A = {
  id: ref('id', exact),
  externalId: ref('externalId', exact),
  userName: ref('userName'),
  displayName: ref('displayName'),
  givenName: ref('name.givenName'),
  familyName: ref('name.familyName'),
  formatted: ref('name.formatted'),
  active: ref('active', typed('boolean')),
  title: ref('title'),
  userType: ref('userType'),
  created: ref('meta.created', typed('dateTime')),
  lastModified: ref('meta.lastModified', typed('dateTime')),
  emailValue: ref('emails.value', multi),
  emailType: ref('emails.type', multi),
  emailPrimary: ref('emails.primary', typed('boolean', multi)),
  emailDisplay: ref('emails.display', multi),
  phoneValue: ref('phoneNumbers.value', multi),
  phoneType: ref('phoneNumbers.type', multi),
  groupValue: ref('groups.value', multi),
  groupDisplay: ref('groups.display', multi),
  employeeNumber: ref('employeeNumber', { schema: ENTERPRISE }),
  department: ref('department', { schema: ENTERPRISE }),
  manager: ref('manager.value', { schema: ENTERPRISE }),
  level: ref('level', { schema: CUSTOM, type: 'integer' }),
  score: ref('score', { schema: CUSTOM, type: 'decimal' }),
  hired: ref('hired', { schema: CUSTOM, type: 'dateTime' }),
  remote: ref('remote', { schema: CUSTOM, type: 'boolean' }),
  badge: ref('badge', { schema: CUSTOM, caseExact: true }),
};
const G = {
  id: ref('id', exact),
  displayName: ref('displayName'),
  externalId: ref('externalId', exact),
  memberValue: ref('members.value', multi),
  memberType: ref('members.type', multi),
  memberDisplay: ref('members.display', multi),
  lastModified: ref('meta.lastModified', typed('dateTime')),
};

// ---- the seeded directory ------------------------------------------------------------------------
function scimUser(
  attributes: UserAttributes & { extra?: Record<string, unknown> },
): UserAttributes {
  const { extra, ...rest } = attributes;
  return {
    ...rest,
    scimResource: {
      userName: rest.userName,
      ...(rest.emails ? { emails: rest.emails } : {}),
      ...(extra ?? {}),
    },
  };
}

const SEED: (UserAttributes & { extra?: Record<string, unknown> })[] = [
  {
    userName: 'Alice@Example.com',
    externalId: 'ext-A',
    displayName: 'Alice Anders',
    givenName: 'Alice',
    familyName: 'Anders',
    emails: [
      { value: 'Alice@Work.example', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    extra: {
      name: { formatted: 'Alice Anders', givenName: 'Alice', familyName: 'Anders' },
      title: 'Engineer',
      userType: 'Employee',
      phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
      [ENTERPRISE]: { employeeNumber: '701', department: 'R&D', manager: { value: 'MGR-1' } },
      [CUSTOM]: {
        level: 3,
        score: 2.5,
        hired: '2020-01-15T09:00:00.000Z',
        remote: true,
        badge: 'Gold',
      },
    },
  },
  {
    userName: 'bob@example.com',
    externalId: 'EXT-b',
    displayName: 'Bob Brown',
    givenName: 'Bob',
    familyName: 'Brown',
    emails: [
      { value: 'bob@work.example', type: 'home' },
      { value: 'bob@other.example', type: 'work', primary: true },
    ],
    extra: {
      title: 'Manager',
      userType: 'Contractor',
      phoneNumbers: [{ value: '+1 555 0200', type: 'mobile' }],
      [ENTERPRISE]: { employeeNumber: '702', department: 'Sales', manager: { value: 'mgr-2' } },
      [CUSTOM]: {
        level: 7,
        score: 10,
        hired: '2023-06-01T00:00:00.000Z',
        remote: false,
        badge: 'gold',
      },
    },
  },
  {
    userName: 'carol@example.com',
    emails: [],
    extra: { title: '', userType: 'Employee', phoneNumbers: [] },
  },
  {
    userName: 'dave_1%@example.com',
    displayName: 'Dave 100%',
    extra: { title: 'Eng\\ineer', [CUSTOM]: { level: 11 } },
  },
  {
    userName: 'erin@example.com',
    displayName: 'Erin',
    active: false,
    extra: { userType: 'employee' },
  },
  { userName: 'frank@example.com', displayName: 'Frank', externalId: 'ext-f' },
];

type Short = 'alice' | 'bob' | 'carol' | 'dave' | 'erin' | 'frank';
/** alice, bob, ... from the userName. */
const short = (userName: string) =>
  userName
    .replace(/@.*$/, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '') as Short;

function defined<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value');
  return value;
}

interface Seeded {
  tenantId: string;
  users: Record<Short, User>;
  groups: Record<'engineering' | 'managers' | 'empty', string>;
  /** When the second half of the users was last modified (after the first). */
  laterThan: string;
}

async function seed(): Promise<Seeded> {
  n += 1;
  const tenant = await createTenant(database.db, `search-${n}`, scim);
  const users = {} as Record<Short, User>;
  const start = new Date('2026-03-01T00:00:00Z');
  clock.set(start);
  for (const [i, attrs] of SEED.entries()) {
    clock.set(new Date(start.getTime() + i * DAY));
    const { user } = await createUserFromScim(database.db, tenant.id, scimUser(attrs), scim, clock);
    users[short(attrs.userName)] = user;
  }
  // frank is SCIM-deleted: he is in no list, but keeps his memberships for a restore
  const engineering = await createGroupFromScim(
    database.db,
    tenant.id,
    { displayName: 'Engineering', externalId: 'g-ext-1' },
    [users.alice.id, users.bob.id, users.frank.id],
    scim,
    clock,
  );
  const managers = await createGroupFromScim(
    database.db,
    tenant.id,
    { displayName: 'Managers' },
    [users.bob.id, engineering.id],
    scim,
    clock,
  );
  const empty = await createGroupFromScim(
    database.db,
    tenant.id,
    { displayName: 'Empty_%', externalId: 'G-EXT-3' },
    [],
    scim,
    clock,
  );
  await deleteUserFromScim(database.db, tenant.id, users.frank.id, scim, clock);
  return {
    tenantId: tenant.id,
    users,
    groups: { engineering: engineering.id, managers: managers.id, empty: empty.id },
    laterThan: new Date(start.getTime() + 2.5 * DAY).toISOString(),
  };
}

const everything = (filter?: Filter): DirectoryQuery => ({
  ...(filter ? { filter } : {}),
  page: { kind: 'index', startIndex: 1, count: 1000 },
});

describe('searchUsers: every operator and attribute kind, in SQL', () => {
  let s: Seeded;
  beforeAll(async () => {
    s = await seed();
  });

  const names = async (filter?: Filter) => {
    const page = await searchUsers(database.db, s.tenantId, everything(filter));
    expect(page.totalResults).toBe(page.items.length);
    return page.items.map((u) => short(u.userName)).sort();
  };

  const cases: [string, () => Filter, string[]][] = [
    // userName: caseExact=false, compared on its identity key
    ['userName eq, any case', () => cmp(A.userName, 'eq', 'ALICE@example.COM'), ['alice']],
    [
      'userName ne',
      () => cmp(A.userName, 'ne', 'alice@example.com'),
      ['bob', 'carol', 'dave', 'erin'],
    ],
    [
      'userName co with LIKE wildcards taken literally',
      () => cmp(A.userName, 'co', '_1%'),
      ['dave'],
    ],
    ['userName sw', () => cmp(A.userName, 'sw', 'B'), ['bob']],
    [
      'userName ew',
      () => cmp(A.userName, 'ew', '@EXAMPLE.com'),
      ['alice', 'bob', 'carol', 'dave', 'erin'],
    ],
    [
      'userName gt / le',
      () => and(cmp(A.userName, 'gt', 'bob@example.com'), cmp(A.userName, 'le', 'dave')),
      ['carol'],
    ],
    [
      'userName ge / lt',
      () => and(cmp(A.userName, 'ge', 'bob@example.com'), cmp(A.userName, 'lt', 'carol')),
      ['bob'],
    ],
    ['userName pr', () => cmp(A.userName, 'pr'), ['alice', 'bob', 'carol', 'dave', 'erin']],
    // externalId and id: case-exact
    ['externalId eq is case-exact', () => cmp(A.externalId, 'eq', 'ext-A'), ['alice']],
    ['externalId eq in another case finds nothing', () => cmp(A.externalId, 'eq', 'EXT-A'), []],
    ['externalId pr', () => cmp(A.externalId, 'pr'), ['alice', 'bob']],
    ['externalId eq null = absent', () => cmp(A.externalId, 'eq', null), ['carol', 'dave', 'erin']],
    [
      'externalId ne (absent matches)',
      () => cmp(A.externalId, 'ne', 'ext-A'),
      ['bob', 'carol', 'dave', 'erin'],
    ],
    ['id eq', () => cmp(A.id, 'eq', s.users.bob.id), ['bob']],
    ['id eq a non-uuid finds nothing', () => cmp(A.id, 'eq', 'not-a-uuid'), []],
    ['id eq a deprovisioned user finds nothing', () => cmp(A.id, 'eq', s.users.frank.id), []],
    // caseExact=false columns
    ['displayName eq, any case', () => cmp(A.displayName, 'eq', 'bob brown'), ['bob']],
    ['displayName co with %', () => cmp(A.displayName, 'co', '100%'), ['dave']],
    ['displayName pr', () => cmp(A.displayName, 'pr'), ['alice', 'bob', 'dave', 'erin']],
    ['name.givenName sw', () => cmp(A.givenName, 'sw', 'al'), ['alice']],
    ['name.familyName eq', () => cmp(A.familyName, 'eq', 'BROWN'), ['bob']],
    [
      'active eq true (inactive users are listed)',
      () => cmp(A.active, 'eq', true),
      ['alice', 'bob', 'carol', 'dave'],
    ],
    ['active eq false', () => cmp(A.active, 'eq', false), ['erin']],
    ['meta.lastModified gt', () => cmp(A.lastModified, 'gt', s.laterThan), ['dave', 'erin']],
    ['meta.created le', () => cmp(A.created, 'le', s.laterThan), ['alice', 'bob', 'carol']],
    // jsonb attributes: strings lowered unless caseExact
    ['title eq, any case', () => cmp(A.title, 'eq', 'ENGINEER'), ['alice']],
    ['title co with a backslash taken literally', () => cmp(A.title, 'co', 'g\\i'), ['dave']],
    ['title pr (empty string is not present)', () => cmp(A.title, 'pr'), ['alice', 'bob', 'dave']],
    [
      'title ne (absent and empty match)',
      () => cmp(A.title, 'ne', 'engineer'),
      ['bob', 'carol', 'dave', 'erin'],
    ],
    ['userType eq, caseless', () => cmp(A.userType, 'eq', 'employee'), ['alice', 'carol', 'erin']],
    ['name.formatted (jsonb sub-attribute)', () => cmp(A.formatted, 'co', 'anders'), ['alice']],
    // extension attributes, under their URN key
    ['enterprise employeeNumber eq', () => cmp(A.employeeNumber, 'eq', '702'), ['bob']],
    ['enterprise department co', () => cmp(A.department, 'co', '&'), ['alice']],
    ['enterprise manager.value eq, caseless', () => cmp(A.manager, 'eq', 'mgr-1'), ['alice']],
    ['enterprise manager.value pr', () => cmp(A.manager, 'pr'), ['alice', 'bob']],
    ['integer gt', () => cmp(A.level, 'gt', 5), ['bob', 'dave']],
    ['integer eq', () => cmp(A.level, 'eq', 11), ['dave']],
    ['decimal le', () => cmp(A.score, 'le', 2.5), ['alice']],
    ['dateTime gt', () => cmp(A.hired, 'gt', '2021-01-01T00:00:00Z'), ['bob']],
    ['boolean eq', () => cmp(A.remote, 'eq', false), ['bob']],
    ['caseExact string', () => cmp(A.badge, 'eq', 'gold'), ['bob']],
    // multi-valued: any element
    ['emails.value eq, any case', () => cmp(A.emailValue, 'eq', 'alice@work.EXAMPLE'), ['alice']],
    ['emails.value co', () => cmp(A.emailValue, 'co', 'other'), ['bob']],
    ['emails.value pr', () => cmp(A.emailValue, 'pr'), ['alice', 'bob']],
    [
      'emails.value ne: no email equals',
      () => cmp(A.emailValue, 'ne', 'bob@other.example'),
      ['alice', 'carol', 'dave', 'erin'],
    ],
    ['emails.primary eq true', () => cmp(A.emailPrimary, 'eq', true), ['alice', 'bob']],
    ['emails.type eq (caseless)', () => cmp(A.emailType, 'eq', 'HOME'), ['alice', 'bob']],
    ['emails.display (read from the jsonb)', () => cmp(A.emailDisplay, 'pr'), []],
    ['phoneNumbers.type eq (jsonb array)', () => cmp(A.phoneType, 'eq', 'mobile'), ['bob']],
    ['phoneNumbers.value sw', () => cmp(A.phoneValue, 'sw', '+1 555 01'), ['alice']],
    ['groups.value eq', () => cmp(A.groupValue, 'eq', s.groups.managers), ['bob']],
    ['groups.display eq', () => cmp(A.groupDisplay, 'eq', 'engineering'), ['alice', 'bob']],
    // valuePath: same element; flat: any elements
    [
      'emails[type eq work and value co "bob@work"] needs one element',
      () =>
        element('emails', and(cmp(A.emailType, 'eq', 'work'), cmp(A.emailValue, 'co', 'bob@work'))),
      [],
    ],
    [
      'emails.type eq work and emails.value co "bob@work" may match across elements',
      () => and(cmp(A.emailType, 'eq', 'work'), cmp(A.emailValue, 'co', 'bob@work')),
      ['bob'],
    ],
    [
      'emails[type eq work and value co work] (same element)',
      () => element('emails', and(cmp(A.emailType, 'eq', 'work'), cmp(A.emailValue, 'co', 'work'))),
      ['alice'],
    ],
    [
      'phoneNumbers[type eq work and value pr] (jsonb element)',
      () => element('phoneNumbers', and(cmp(A.phoneType, 'eq', 'work'), cmp(A.phoneValue, 'pr'))),
      ['alice'],
    ],
    [
      'emails[not (type eq work)]',
      () => element('emails', not(cmp(A.emailType, 'eq', 'work'))),
      ['alice', 'bob'],
    ],
    // logic
    [
      'not (a or b) is not a and not b',
      () =>
        not(
          or(cmp(A.userName, 'eq', 'alice@example.com'), cmp(A.userName, 'eq', 'bob@example.com')),
        ),
      ['carol', 'dave', 'erin'],
    ],
    [
      'not (a and b)',
      () => not(and(cmp(A.userType, 'eq', 'employee'), cmp(A.active, 'eq', true))),
      ['bob', 'dave', 'erin'],
    ],
    [
      'not on an absent attribute matches',
      () => not(cmp(A.title, 'eq', 'manager')),
      ['alice', 'carol', 'dave', 'erin'],
    ],
    [
      'parentheses: a and (b or c)',
      () =>
        and(cmp(A.userType, 'eq', 'employee'), or(cmp(A.title, 'pr'), cmp(A.active, 'eq', false))),
      ['alice', 'erin'],
    ],
    [
      '(a and b) or c',
      () =>
        or(and(cmp(A.userType, 'eq', 'employee'), cmp(A.title, 'pr')), cmp(A.active, 'eq', false)),
      ['alice', 'erin'],
    ],
  ];

  it.each(cases)('%s', async (_, filter, expected) => {
    expect(await names(filter())).toEqual(expected);
  });

  it('lists everyone not deprovisioned, with emails, and counts them from the counters', async () => {
    const page = await searchUsers(database.db, s.tenantId, everything());
    expect(page.totalResults).toBe(5);
    expect(page.startIndex).toBe(1);
    expect(page.items.map((u) => u.userName)).toEqual([
      'Alice@Example.com',
      'bob@example.com',
      'carol@example.com',
      'dave_1%@example.com',
      'erin@example.com',
    ]);
    expect(page.items[0]?.emails).toEqual([
      { value: 'Alice@Work.example', type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ]);
  });

  it('refuses comparisons the type does not allow, as Invalid', async () => {
    const invalidOf = async (filter: Filter) => {
      const error: unknown = await searchUsers(database.db, s.tenantId, everything(filter)).catch(
        (e: unknown) => e,
      );
      expect(isCoreError(error, 'Invalid')).toBe(true);
    };
    await invalidOf(cmp(A.active, 'gt', true));
    await invalidOf(cmp(A.active, 'eq', 'yes'));
    await invalidOf(cmp(A.created, 'co', '2026'));
    await invalidOf(cmp(A.created, 'gt', 'yesterday'));
    await invalidOf(cmp(A.level, 'gt', 'many'));
    await invalidOf(cmp(A.userName, 'eq'));
    await invalidOf(cmp(ref('groups.$ref', multi), 'pr'));
    await invalidOf(element('emails', element('emails', cmp(A.emailValue, 'pr'))));
  });
});

describe('searchGroups', () => {
  let s: Seeded;
  beforeAll(async () => {
    s = await seed();
  });
  const names = async (filter?: Filter) => {
    const page = await searchGroups(database.db, s.tenantId, everything(filter));
    expect(page.totalResults).toBe(page.items.length);
    return page.items.map((g) => g.displayName).sort();
  };
  const cases: [string, () => Filter, string[]][] = [
    ['displayName eq, any case', () => cmp(G.displayName, 'eq', 'ENGINEERING'), ['Engineering']],
    ['displayName co with _ and %', () => cmp(G.displayName, 'co', '_%'), ['Empty_%']],
    ['externalId case-exact', () => cmp(G.externalId, 'eq', 'g-ext-3'), []],
    ['externalId eq', () => cmp(G.externalId, 'eq', 'G-EXT-3'), ['Empty_%']],
    ['id eq', () => cmp(G.id, 'eq', s.groups.managers), ['Managers']],
    [
      'members.value eq a user',
      () => cmp(G.memberValue, 'eq', s.users.bob.id),
      ['Engineering', 'Managers'],
    ],
    [
      'members.value eq a group',
      () => cmp(G.memberValue, 'eq', s.groups.engineering),
      ['Managers'],
    ],
    ['members.value of a deprovisioned user', () => cmp(G.memberValue, 'eq', s.users.frank.id), []],
    ['members pr', () => cmp(G.memberValue, 'pr'), ['Engineering', 'Managers']],
    ['not members pr', () => not(cmp(G.memberValue, 'pr')), ['Empty_%']],
    ['members.type eq Group', () => cmp(G.memberType, 'eq', 'group'), ['Managers']],
    ['members.display co', () => cmp(G.memberDisplay, 'co', 'alice'), ['Engineering']],
    [
      'members[type eq User and value eq alice]',
      () =>
        element(
          'members',
          and(cmp(G.memberType, 'eq', 'User'), cmp(G.memberValue, 'eq', s.users.alice.id)),
        ),
      ['Engineering'],
    ],
    [
      'meta.lastModified ge',
      () => cmp(G.lastModified, 'ge', '2020-01-01T00:00:00Z'),
      ['Empty_%', 'Engineering', 'Managers'],
    ],
  ];
  it.each(cases)('%s', async (_, filter, expected) => {
    expect(await names(filter())).toEqual(expected);
  });

  it('pages members by keyset and leaves deprovisioned users out', async () => {
    const first = await listGroupMembers(database.db, s.tenantId, s.groups.engineering, {
      limit: 1,
    });
    expect(first.members).toHaveLength(1);
    expect(first.next).toBeDefined();
    const second = await listGroupMembers(database.db, s.tenantId, s.groups.engineering, {
      limit: 5,
      after: defined(first.next),
    });
    expect(second.next).toBeUndefined();
    const all = [...first.members, ...second.members];
    expect(all.map((m) => m.value).sort()).toEqual([s.users.alice.id, s.users.bob.id].sort());
    expect(all.find((m) => m.value === s.users.alice.id)).toEqual({
      value: s.users.alice.id,
      type: 'User',
      display: 'Alice Anders',
    });
    const managers = await listGroupMembers(database.db, s.tenantId, s.groups.managers, {
      limit: 10,
    });
    expect(managers.members).toContainEqual({
      value: s.groups.engineering,
      type: 'Group',
      display: 'Engineering',
    });
    expect(await listGroupMembers(database.db, s.tenantId, 'nope', { limit: 10 })).toEqual({
      members: [],
    });
  });

  it("gives each user's groups in one query", async () => {
    const byUser = await groupsOfUsers(database.db, s.tenantId, [s.users.bob.id, s.users.carol.id]);
    expect(byUser.get(s.users.bob.id)).toEqual([
      { value: s.groups.engineering, display: 'Engineering' },
      { value: s.groups.managers, display: 'Managers' },
    ]);
    expect(byUser.get(s.users.carol.id)).toEqual([]);
  });
});

describe('sorting and paging', () => {
  let tenantId: string;
  const TOTAL = 23;
  beforeAll(async () => {
    n += 1;
    tenantId = (await createTenant(database.db, `paging-${n}`, scim)).id;
    // several users share a created_at, a title or have none: the id must break ties
    for (let i = 0; i < TOTAL; i++) {
      clock.set(new Date(Date.UTC(2026, 0, 1 + Math.floor(i / 4))));
      await createUserFromScim(
        database.db,
        tenantId,
        scimUser({
          userName: `user${String((i * 7) % TOTAL).padStart(2, '0')}@example.com`,
          extra: i % 3 === 0 ? {} : { title: `T${i % 4}` },
        }),
        scim,
        clock,
      );
    }
  });

  async function walkIndex(query: Omit<DirectoryQuery, 'page'>, count: number) {
    const seen: string[] = [];
    for (let start = 1; ; start += count) {
      const page = await searchUsers(database.db, tenantId, {
        ...query,
        page: { kind: 'index', startIndex: start, count },
      });
      expect(page.totalResults).toBe(TOTAL);
      expect(page.startIndex).toBe(start);
      if (page.items.length === 0) break;
      seen.push(...page.items.map((u) => u.userName));
    }
    return seen;
  }

  async function walkCursor(query: Omit<DirectoryQuery, 'page'>, count: number) {
    const pages: string[][] = [];
    const cursors: { next?: string; previous?: string }[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(
        database.db,
        tenantId,
        { ...query, page: { kind: 'cursor', cursor, count } },
      );
      expect(page.totalResults).toBe(TOTAL);
      pages.push(page.items.map((u) => u.userName));
      cursors.push({
        ...(page.nextCursor ? { next: page.nextCursor } : {}),
        ...(page.previousCursor ? { previous: page.previousCursor } : {}),
      });
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return { pages, cursors };
  }

  it('index pages are stable and cover every user once, in created order', async () => {
    const all = (await searchUsers(database.db, tenantId, everything())).items.map(
      (u) => u.userName,
    );
    expect(all).toHaveLength(TOTAL);
    expect(await walkIndex({}, 5)).toEqual(all);
  });

  it('sortBy userName descending, by index and by cursor', async () => {
    const sort = { attribute: A.userName, order: 'descending' as const };
    const expected = Array.from(
      { length: TOTAL },
      (_, i) => `user${String(i).padStart(2, '0')}@example.com`,
    ).reverse();
    expect(await walkIndex({ sort }, 4)).toEqual(expected);
    const { pages, cursors } = await walkCursor({ sort }, 4);
    expect(pages.flat()).toEqual(expected);
    expect(pages).toHaveLength(6);
    expect(cursors[0]?.previous).toBeUndefined();
    expect(cursors.at(-1)?.next).toBeUndefined();
  });

  it('sort by a jsonb attribute puts absent values last, ids breaking ties, across cursor pages both ways', async () => {
    for (const order of ['ascending', 'descending'] as const) {
      const sort = { attribute: A.title, order };
      const byIndex = await walkIndex({ sort }, 3);
      expect(new Set(byIndex).size).toBe(TOTAL);
      const full = (
        await searchUsers(database.db, tenantId, {
          sort,
          page: { kind: 'index', startIndex: 1, count: 100 },
        })
      ).items;
      const titles = full.map((u) => (u.scimResource.title as string | undefined) ?? null);
      const present = titles.filter((t) => t !== null);
      expect(titles.slice(present.length).every((t) => t === null)).toBe(true); // nulls last
      expect(present).toEqual(
        [...present].sort((a, b) =>
          order === 'ascending' ? a.localeCompare(b) : b.localeCompare(a),
        ),
      );
      expect(byIndex).toEqual(full.map((u) => u.userName));
      const { pages, cursors } = await walkCursor({ sort }, 3);
      expect(pages.flat()).toEqual(byIndex);
      // and back again from the last page with previousCursor
      const back: string[][] = [defined(pages.at(-1))];
      let previous = cursors.at(-1)?.previous;
      while (previous) {
        const page = await searchUsers(database.db, tenantId, {
          sort,
          page: { kind: 'cursor', cursor: previous, count: 3 },
        });
        back.unshift(page.items.map((u) => u.userName));
        previous = page.previousCursor;
      }
      expect(back.flat()).toEqual(byIndex);
    }
  });

  it('cursor pages in the default order reach the end, filtered too', async () => {
    const all = (await searchUsers(database.db, tenantId, everything())).items.map(
      (u) => u.userName,
    );
    const { pages } = await walkCursor({}, 7);
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(pages.flat()).toEqual(all);
    const filter = cmp(A.title, 'eq', 't1');
    const filtered = await walkCursor({ filter }, 3).catch((e: unknown) => e);
    // walkCursor expects TOTAL; walk the filtered list by hand instead
    expect(filtered).toBeInstanceOf(Error);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(
        database.db,
        tenantId,
        {
          filter,
          page: { kind: 'cursor', cursor, count: 3 },
        },
      );
      expect(page.totalResults).toBe(4); // i % 4 = 1 and i % 3 != 0: 1, 5, 13, 17
      seen.push(...page.items.map((u) => u.userName));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const everyone = (await searchUsers(database.db, tenantId, everything())).items;
    expect(seen).toEqual(
      everyone.filter((u) => u.scimResource.title === 'T1').map((u) => u.userName),
    );
  });

  it('every NOT NULL sort key (id, meta.created, meta.lastModified, userName) pages by cursor both ways like by index', async () => {
    for (const attribute of [A.id, A.created, A.lastModified, A.userName]) {
      for (const order of ['ascending', 'descending'] as const) {
        const sort = { attribute, order };
        const byIndex = await walkIndex({ sort }, 4);
        expect(new Set(byIndex).size).toBe(TOTAL);
        const { pages, cursors } = await walkCursor({ sort }, 4);
        expect(pages.flat()).toEqual(byIndex);
        const back: string[][] = [defined(pages.at(-1))];
        let previous = cursors.at(-1)?.previous;
        while (previous) {
          const page = await searchUsers(database.db, tenantId, {
            sort,
            page: { kind: 'cursor', cursor: previous, count: 4 },
          });
          back.unshift(page.items.map((u) => u.userName));
          previous = page.previousCursor;
        }
        expect(back.flat()).toEqual(byIndex);
      }
    }
  });

  it('count=0 returns only totalResults', async () => {
    const page = await searchUsers(database.db, tenantId, {
      page: { kind: 'index', startIndex: 1, count: 0 },
    });
    expect(page).toEqual({ items: [], totalResults: TOTAL, startIndex: 1 });
    const filtered = await searchUsers(database.db, tenantId, {
      filter: cmp(A.userName, 'sw', 'user0'),
      page: { kind: 'cursor', cursor: null, count: 0 },
    });
    expect(filtered).toEqual({ items: [], totalResults: 10 });
  });

  it('refuses a forged cursor, or one issued for another sort, as Invalid (invalidCursor)', async () => {
    const first = await searchUsers(database.db, tenantId, {
      page: { kind: 'cursor', cursor: null, count: 2 },
    });
    for (const [cursor, sort] of [
      ['garbage!', undefined],
      [Buffer.from('{"v":1}').toString('base64url'), undefined],
      [defined(first.nextCursor), { attribute: A.userName, order: 'ascending' as const }],
    ] as const) {
      const error: unknown = await searchUsers(database.db, tenantId, {
        ...(sort ? { sort } : {}),
        page: { kind: 'cursor', cursor, count: 2 },
      }).catch((e: unknown) => e);
      expect(isCoreError(error, 'Invalid')).toBe(true);
      expect((error as { details?: Record<string, unknown> }).details?.reason).toBe(
        'invalidCursor',
      );
    }
  });
});

describe('totalResults counters', () => {
  const exactCount = async (tenantId: string) =>
    (
      await sql<{
        n: number;
      }>`select count(*)::integer as n from users where tenant_id = ${tenantId} and lifecycle_state <> 'deprovisioned'`.execute(
        database.db,
      )
    ).rows[0]?.n;
  const total = async (tenantId: string) =>
    (await searchUsers(database.db, tenantId, { page: { kind: 'index', startIndex: 1, count: 0 } }))
      .totalResults;

  it('stay exact through create, deprovision, restore, purge and bulk SQL', async () => {
    n += 1;
    const tenantId = (await createTenant(database.db, `counts-${n}`, scim)).id;
    const other = (await createTenant(database.db, `counts-other-${n}`, scim)).id;
    const local = fixedClock('2026-05-01T00:00:00Z');
    expect(await total(tenantId)).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (await createUserFromScim(database.db, tenantId, { userName: `c${i}@x` }, scim, local)).user
          .id,
      );
    await createUserFromScim(database.db, other, { userName: 'c0@x' }, scim, local);
    expect(await total(tenantId)).toBe(4);
    await deleteUserFromScim(database.db, tenantId, defined(ids[0]), scim, local);
    await deleteUserFromScim(database.db, tenantId, defined(ids[1]), scim, local);
    expect(await total(tenantId)).toBe(2);
    await restoreUser(database.db, tenantId, defined(ids[0]), scim, local);
    expect(await total(tenantId)).toBe(3);
    // a SCIM POST of a deprovisioned user's userName restores it
    await createUserFromScim(database.db, tenantId, { userName: 'C1@x' }, scim, local);
    expect(await total(tenantId)).toBe(4);
    await deleteUserFromScim(database.db, tenantId, defined(ids[2]), scim, local);
    local.advance(400 * DAY);
    const { purged } = await purgeExpiredUsers(database.db, local, { tenantId });
    expect(purged).toBe(1);
    expect(await total(tenantId)).toBe(3);
    // bulk seeding in plain SQL: one statement, counted once
    await sql`insert into users (tenant_id, user_name, user_name_key, source, managed_by)
      select ${tenantId}, 'bulk' || i, 'bulk' || i, 'scim', 'scim' from generate_series(1, 500) i`.execute(
      database.db,
    );
    await sql`update users set lifecycle_state = 'deprovisioned', purge_after = now() + interval '1 day'
      where tenant_id = ${tenantId} and user_name like 'bulk1%'`.execute(database.db);
    await sql`update users set display_name = 'renamed' where tenant_id = ${tenantId}`.execute(
      database.db,
    );
    await sql`delete from users where tenant_id = ${tenantId} and user_name like 'bulk2%'`.execute(
      database.db,
    );
    expect(await total(tenantId)).toBe(await exactCount(tenantId));
    expect(await total(other)).toBe(1);
    // a rolled-back write leaves the count alone
    await database.db
      .transaction()
      .execute(async (tx) => {
        await sql`delete from users where tenant_id = ${tenantId}`.execute(tx);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await total(tenantId)).toBe(await exactCount(tenantId));
  });

  it('count groups through create and delete', async () => {
    n += 1;
    const tenantId = (await createTenant(database.db, `gcounts-${n}`, scim)).id;
    const a = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'a' },
      [],
      scim,
      clock,
    );
    await createGroupFromScim(database.db, tenantId, { displayName: 'b' }, [], scim, clock);
    await updateGroupFromScim(
      database.db,
      tenantId,
      a.id,
      { attributes: { displayName: 'A' } },
      scim,
      clock,
    );
    expect(await unfilteredCount(database.db, 'Group', tenantId)).toBe(2);
    await deleteGroupFromScim(database.db, tenantId, a.id, scim);
    expect(await unfilteredCount(database.db, 'Group', tenantId)).toBe(1);
    const page = await searchGroups(database.db, tenantId, everything());
    expect(page.totalResults).toBe(1);
    expect(page.items.map((g) => g.displayName)).toEqual(['b']);
  });
});
