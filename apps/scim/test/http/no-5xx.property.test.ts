// Property: whatever a client sends (generated filters, PATCH operations, POST/PUT bodies of Users
// and Groups, /Bulk requests and paths, hostile ones included), the real SCIM server on a real
// database never answers 5xx, never shows an internal message, keeps every request in its log,
// and every resource it wrote still reads back whole. Seeded and bounded, so CI runs the same
// cases every time.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { FILTER_OPERATORS } from '@roster/core';
import supertest, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BULK_REQUEST_SCHEMA,
  createGroup,
  createUser,
  ENTERPRISE_SCHEMA,
  GROUP_SCHEMA,
  PATCH_SCHEMA,
  SCIM_JSON,
  SEARCH_SCHEMA,
  startScim,
  USER_SCHEMA,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

/** Runs per property: together about 10-20 s on PGlite. SCIM_FUZZ_RUNS=1000 explores further. */
const RUNS = Number(process.env.SCIM_FUZZ_RUNS ?? 60);
/** SCIM_FUZZ_SEED=<n> explores other cases than CI's. */
const SEED = Number(process.env.SCIM_FUZZ_SEED ?? 20_261_203);
/** How often each status was answered (printed with SCIM_FUZZ_STATS=1, to see what is reached). */
const statuses = new Map<string, number>();

let harness: ScimHarness;
let acme: TenantClient;
const knownUserIds: string[] = [];
const knownGroupIds: string[] = [];
/** Every request id the tenant's endpoint answered: each must be in the request log. */
const answeredRequestIds: string[] = [];

beforeAll(async () => {
  harness = await startScim({ scimLogRetentionDays: 7, scimRateLimit: null });
  acme = await harness.tenant('acme');
  for (let i = 0; i < 3; i++) {
    knownUserIds.push((await createUser(acme, `seed${i}@acme.test`)).id);
    knownGroupIds.push((await createGroup(acme, `Seed group ${i}`)).id);
  }
});
afterAll(async () => {
  if (process.env.SCIM_FUZZ_STATS) console.log([...statuses].sort().join('\n'));
  await harness.close();
});

// What an answer may never carry: JavaScript error text, stack frames, SQL or driver messages.
const INTERNAL_MESSAGE =
  /TypeError|ReferenceError|RangeError|SyntaxError|Maximum call stack|is not a function|Cannot read propert|Cannot set propert|undefined is not|trap returned|not extensible|\bat [\w.<>]+ \(|node_modules|SQLSTATE|syntax error at or near|violates|duplicate key|relation "|column "|invalid input syntax|out of range|bind message|internal error/i;

/** The checks every answer passes; returns the parsed body. */
function checkAnswer(res: Response, what: string, authenticated = true): unknown {
  const text = res.text;
  expect(res.status, `${what}: ${text.slice(0, 500)}`).toBeLessThan(500);
  expect(text, what).not.toMatch(INTERNAL_MESSAGE);
  const key = `${what.split(' ')[0] ?? ''} ${res.status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  const id = res.headers['x-request-id'];
  // Only what reached the tenant's endpoint with its token has a log to be in (refusals without
  // a token are kept up to a rate, and a bad slug names no tenant).
  const sentTo = (res as Response & { req?: { path?: string } }).req?.path ?? '';
  if (authenticated && typeof id === 'string' && sentTo.startsWith('/scim/v2/acme/'))
    answeredRequestIds.push(id);
  if (text === '') return undefined;
  return JSON.parse(text) as unknown;
}

/** After a write that succeeded: the resource answers 200 and carries its id and schemas. */
async function readsBackWhole(location: string, what: string): Promise<void> {
  const path = location.replace(acme.baseUrl, '');
  const res = await acme.get(path);
  const body = checkAnswer(res, `read back ${path} after ${what}`) as {
    id?: unknown;
    schemas?: unknown;
  };
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(200);
  expect(typeof body.id).toBe('string');
  expect(path.endsWith(String(body.id))).toBe(true);
  expect(Array.isArray(body.schemas) && body.schemas.length > 0).toBe(true);
}

// ---- hostile pieces ----

const incompressible = (length: number) => randomBytes(length).toString('base64').slice(0, length);
/**
 * Arrays and objects nested `levels` deep. Too deep for JSON.stringify (and fast-check's printer)
 * to walk, so it is a marker that {@link toJsonText} writes out as text.
 */
class Nested {
  readonly levels: number;
  constructor(levels: number) {
    this.levels = levels;
  }
  [fc.toStringMethod]() {
    return `<nested ${this.levels} levels>`;
  }
}
const nested = (levels: number) => new Nested(levels);
const nestedText = (levels: number) =>
  Array.from({ length: levels }, (_, i) => (i % 2 ? '{"a":' : '[')).join('') +
  '"x"' +
  Array.from({ length: levels }, (_, i) => (i % 2 ? '}' : ']'))
    .reverse()
    .join('');

/** JSON text of a generated body, deep markers written out in place. */
function toJsonText(value: unknown): string {
  const deep: number[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Nested ? `\u0001deep${deep.push(v.levels) - 1}\u0001` : v,
  );
  return text.replace(/"\\u0001deep(\d+)\\u0001"/g, (_m, i: string) =>
    nestedText(deep[Number(i)] ?? 1),
  );
}

/** An authenticated request with a generated body (sent as text: it may be nested too deep). */
const send = (
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  payload?: unknown,
) =>
  payload === undefined
    ? acme.raw(method, path)
    : acme.raw(method, path).set('Content-Type', SCIM_JSON).send(toJsonText(payload));

/** Ordinary text, so that many requests get past validation into the deeper code. */
const plainText = fc.stringMatching(/^[A-Za-z0-9 ._@-]{1,24}$/);

const hostileText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\ud800',
      '\udc00x',
      'x\ud83d',
      '😀',
      '\u202e',
      'İ',
      'ﬀ',
      '"',
      '\\',
      '%FF',
      "'; drop table users; --",
      'null',
      'true',
      '2024-02-30T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '9999-12-31T23:59:59-15:00',
      'a'.repeat(512),
      incompressible(513),
      incompressible(4000),
    ),
  },
);

/** A unique, ordinary value, so that writes also succeed and get read back. */
let counter = 0;
const fresh = fc.constant(null).map(() => `u${++counter}@acme.test`);

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(hostileText, { maxLength: 3 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
  fc.constantFrom(nested(40), nested(31), nested(5_000)),
);

const anyValue = fc.oneof(
  { weight: 12, arbitrary: plainText },
  { weight: 3, arbitrary: hostileText },
  { weight: 1, arbitrary: wrongType },
);

/** Mostly what the attribute takes, now and then anything at all. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: anyValue });

/** The same key in another case now and then (attribute names are case-insensitive). */
const caseMixed = (name: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(name) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
        .map((upper) =>
          [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
        ),
    },
  );

/** An object of optional entries, each under a possibly case-mixed key. */
function body(
  entries: Record<string, fc.Arbitrary<unknown>>,
  required: readonly string[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  const pairs = Object.entries(entries).map(([key, value]) =>
    fc.option(fc.tuple(caseMixed(key), value), {
      nil: undefined,
      // a required attribute is left out now and then only
      freq: required.includes(key) ? 12 : 2,
    }),
  );
  return fc
    .tuple(
      fc.tuple(...pairs),
      fc.option(fc.dictionary(hostileText, anyValue, { maxKeys: 2 }), { nil: {}, freq: 6 }),
    )
    .map(([chosen, extra]) => {
      const result: Record<string, unknown> = { ...extra };
      for (const pair of chosen) if (pair) result[pair[0]] = pair[1];
      return result;
    });
}

const multiValued = (element: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.array(element, { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc
        .constant(null)
        .chain(() => fc.array(element, { minLength: 101, maxLength: 150 })),
    },
    { weight: 1, arbitrary: wrongType },
  );

const userIdRef = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...[0, 1, 2]).map((i) => knownUserIds[i] ?? '') },
  fc.uuid(),
  hostileText,
);
const groupIdRef = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...[0, 1, 2]).map((i) => knownGroupIds[i] ?? '') },
  fc.uuid(),
  hostileText,
);

const emailValue = body(
  {
    value: mostly(fresh),
    type: mostly(fc.constantFrom('work', 'home', 'other')),
    primary: mostly(fc.oneof(fc.boolean(), fc.constantFrom('True', 'false'))),
  },
  ['value'],
);

const userBody = body(
  {
    schemas: fc.oneof(
      { weight: 6, arbitrary: fc.constant([USER_SCHEMA]) },
      { weight: 2, arbitrary: fc.constant([USER_SCHEMA, ENTERPRISE_SCHEMA]) },
      { weight: 1, arbitrary: fc.constant(['urn:scim:schemas:core:2.0']) },
      { weight: 1, arbitrary: wrongType },
    ),
    userName: mostly(fresh),
    externalId: mostly(fresh),
    displayName: anyValue,
    name: mostly(body({ givenName: anyValue, familyName: anyValue, formatted: anyValue })),
    emails: multiValued(emailValue),
    phoneNumbers: multiValued(body({ value: anyValue, type: anyValue }, ['value'])),
    roles: multiValued(body({ value: anyValue, primary: mostly(fc.boolean()) }, ['value'])),
    active: mostly(fc.oneof(fc.boolean(), fc.constantFrom('True', 'False'))),
    title: anyValue,
    [ENTERPRISE_SCHEMA]: mostly(
      body({
        employeeNumber: anyValue,
        department: anyValue,
        manager: fc.oneof(userIdRef, body({ value: userIdRef }, ['value'])),
      }),
    ),
  },
  ['schemas', 'userName'],
);

const groupBody = body(
  {
    schemas: mostly(fc.constant([GROUP_SCHEMA])),
    displayName: mostly(fresh),
    externalId: mostly(fresh),
    members: multiValued(
      mostly(body({ value: fc.oneof(userIdRef, groupIdRef), type: anyValue }, ['value'])),
    ),
  },
  ['schemas', 'displayName'],
);

// ---- filters ----

const ATTRIBUTES = [
  'userName',
  'displayName',
  'externalId',
  'id',
  'active',
  'title',
  'name.givenName',
  'name',
  'emails',
  'emails.value',
  'emails.type',
  'emails.primary',
  'phoneNumbers.value',
  'members',
  'members.value',
  'groups.display',
  'meta.created',
  'meta.lastModified',
  'meta.version',
  'meta.location',
  'password',
  `${ENTERPRISE_SCHEMA}:employeeNumber`,
  `${ENTERPRISE_SCHEMA}:manager.value`,
  'urn:ietf:params:scim:schemas:core:2.0:User:userName',
  'nosuch',
  'a.b.c',
];
const attribute = fc.constantFrom(...ATTRIBUTES).chain(caseMixed);
// Every operator RFC 7644 §3.4.2.2 names, two in other cases (operators are case-insensitive),
// and one that does not exist.
const operator = fc.constantFrom(...FILTER_OPERATORS, 'EQ', 'Gt', 'xx');
const quote = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const comparisonValue = fc.oneof(
  hostileText.map(quote),
  fc.constantFrom(
    'true',
    'false',
    'null',
    '42',
    '-1.5e3',
    '"\\u0041"',
    '"\\ud800"',
    '"unterminated',
  ),
  fc.constantFrom(
    '"2024-02-30T00:00:00Z"',
    '"0000-01-01T00:00:00Z"',
    '"2024-02-29T00:00:00Z"',
    '"2024-01-01T24:00:00Z"',
    '"2026-06-01 00:00:00+00"',
  ),
);
const filterText: fc.Arbitrary<string> = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(attribute, operator, comparisonValue)
      .map(([a, op, v]) => (op.toLowerCase() === 'pr' ? `${a} pr` : `${a} ${op} ${v}`)),
    fc
      .tuple(tie('filter'), fc.constantFrom('and', 'or', 'AND', 'Or'), tie('filter'))
      .map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('filter').map((f) => `not (${f})`),
    tie('filter').map((f) => `(${f})`),
    fc.tuple(attribute, tie('filter')).map(([a, f]) => `${a}[${f}]`),
  ),
})).filter;
/** Comparisons whose operator and value suit the attribute: these reach PostgreSQL. */
const typedComparison = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        'userName',
        'displayName',
        'externalId',
        'emails.value',
        'name.givenName',
        'title',
        'emails.type',
        'members.display',
        `${ENTERPRISE_SCHEMA}:employeeNumber`,
      ),
      fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'le'),
      fc.oneof(plainText, hostileText),
    )
    .map(([a, op, v]) => `${a} ${op} ${quote(v)}`),
  fc
    .tuple(
      fc.constantFrom('meta.created', 'meta.lastModified'),
      fc.constantFrom('gt', 'ge', 'lt', 'le', 'eq', 'ne'),
      fc.oneof(
        fc
          .date({
            min: new Date('0001-01-01T00:00:00Z'),
            max: new Date('9999-12-31T23:59:59Z'),
            noInvalidDate: true,
          })
          .map((d) => d.toISOString()),
        fc
          .tuple(
            fc.integer({ min: 0, max: 9999 }),
            fc.integer({ min: 0, max: 13 }),
            fc.integer({ min: 0, max: 32 }),
            fc.integer({ min: 0, max: 25 }),
          )
          .map(
            ([y, m, d, h]) =>
              `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`,
          ),
      ),
    )
    .map(([a, op, v]) => `${a} ${op} "${v}"`),
  fc
    .tuple(fc.constantFrom('active', 'emails.primary'), fc.constantFrom('true', 'false', '"True"'))
    .map(([a, v]) => `${a} eq ${v}`),
  fc
    .tuple(
      fc.constantFrom('id', 'members.value', 'groups.value', `${ENTERPRISE_SCHEMA}:manager.value`),
      fc.oneof(fc.uuid(), plainText),
    )
    .map(([a, v]) => `${a} eq "${v}"`),
  fc.constantFrom(
    'userName pr',
    'emails[type eq "work" and value co "@"]',
    'emails[type eq "work"].value co "a"',
    'members[value pr]',
  ),
);
const typedFilter: fc.Arbitrary<string> = fc.letrec<{ filter: string }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    typedComparison,
    fc
      .tuple(tie('filter'), fc.constantFrom('and', 'or'), tie('filter'))
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('filter').map((f) => `not (${f})`),
  ),
})).filter;

const hostileFilter = fc.oneof(
  { weight: 6, arbitrary: typedFilter },
  { weight: 5, arbitrary: filterText },
  { weight: 1, arbitrary: hostileText },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 400 })
      .map((n) => `${'not ('.repeat(n)}userName eq "x"${')'.repeat(n)}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 300 })
      .map((n) => Array.from({ length: n }, () => 'userName eq "x"').join(' or ')),
  },
);

const queryValue = fc.oneof(
  hostileText,
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.constantFrom('1e400', 'NaN', '-0', '0x10', '99999999999999999999', ''),
);

// ---- paths ----

const ODD_SEGMENTS = [
  '%FF',
  '%',
  '%2',
  '%00',
  '%C0%AF',
  '%ED%A0%80',
  '%E0%A4%A',
  '..',
  '%2F',
  '%252F',
  '%F0%9F%98%80',
  '%20',
  ';',
  '~',
];
const pathSegment = fc.oneof(
  fc.constantFrom(...ODD_SEGMENTS),
  fc.uuid(),
  fc.constantFrom(...knownIdsPlaceholder()),
  hostileText.map(encodeURIComponentLenient),
);
function knownIdsPlaceholder(): string[] {
  return [
    'Users',
    'Groups',
    'Me',
    'Schemas',
    'ResourceTypes',
    'ServiceProviderConfig',
    '.search',
    'Bulk',
  ];
}
/** encodeURIComponent, which throws on lone surrogates: those are written as raw escapes instead. */
function encodeURIComponentLenient(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

// ---- the properties ----

describe('no input gives a 5xx or an internal message, and writes read back whole', () => {
  it('POST and PUT of Users and Groups', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Users', 'Groups'),
        fc.constantFrom('post', 'put'),
        fc.nat(2),
        userBody,
        groupBody,
        async (type, method, target, user, group) => {
          const payload = type === 'Users' ? user : group;
          const path =
            method === 'post'
              ? `/${type}`
              : `/${type}/${(type === 'Users' ? knownUserIds : knownGroupIds)[target]}`;
          const res = await send(method, path, payload);
          const what = `${method.toUpperCase()} ${path} ${toJsonText(payload).slice(0, 300)}`;
          checkAnswer(res, what);
          if (res.status === 201 || res.status === 200) {
            const location = res.headers.location ?? `${acme.baseUrl}${path}`;
            await readsBackWhole(location, what);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('PATCH operations on Users and Groups', async () => {
    /** Operations whose path and value suit each other: these reach the stored resource. */
    const typedOperation = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(
            'displayName',
            'title',
            'nickName',
            'name.givenName',
            'externalId',
            `${ENTERPRISE_SCHEMA}:department`,
          ),
          fc.oneof(plainText, hostileText),
        )
        .map(([path, value]) => ({ op: 'replace', path, value })),
      fc
        .tuple(fc.constantFrom('add', 'replace'), multiValued(emailValue))
        .map(([op, value]) => ({ op, path: 'emails', value })),
      fc.constantFrom(
        { op: 'remove', path: 'emails[type eq "work"]' },
        { op: 'remove', path: 'title' },
        { op: 'remove', path: 'members' },
      ),
      fc.boolean().map((value) => ({ op: 'replace', path: 'active', value })),
      fc
        .array(fc.oneof(userIdRef, groupIdRef), { maxLength: 3 })
        .map((ids) => ({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) })),
      fc
        .oneof(userIdRef, groupIdRef)
        .map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
      fc
        .record({ displayName: fc.oneof(plainText, hostileText), title: plainText })
        .map((value) => ({ op: 'replace', value })),
    );
    const operation = body({
      op: fc.oneof(fc.constantFrom('add', 'replace', 'remove'), hostileText),
      path: fc.oneof(
        { weight: 4, arbitrary: attribute },
        { weight: 2, arbitrary: fc.tuple(attribute, filterText).map(([a, f]) => `${a}[${f}]`) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(attribute, filterText, attribute)
            .map(([a, f, s]) => `${a}[${f}].${s}`),
        },
        { weight: 1, arbitrary: hostileText },
        { weight: 1, arbitrary: fc.constant(ENTERPRISE_SCHEMA) },
      ),
      value: fc.oneof(
        anyValue,
        userBody,
        groupBody,
        multiValued(emailValue),
        fc.array(body({ value: fc.oneof(userIdRef, groupIdRef) }), { maxLength: 3 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Users', 'Groups'),
        fc.nat(2),
        fc.oneof(
          {
            weight: 6,
            arbitrary: fc
              .array(
                fc.oneof(
                  { weight: 3, arbitrary: typedOperation },
                  { weight: 1, arbitrary: operation },
                ),
                { minLength: 1, maxLength: 3 },
              )
              .map((Operations) => ({ schemas: [PATCH_SCHEMA], Operations })),
          },
          { weight: 1, arbitrary: body({ schemas: anyValue, Operations: anyValue }) },
        ),
        async (type, target, patch) => {
          const id = (type === 'Users' ? knownUserIds : knownGroupIds)[target] ?? '';
          const path = `/${type}/${id}`;
          const res = await send('patch', path, patch);
          const what = `PATCH ${path} ${toJsonText(patch).slice(0, 400)}`;
          checkAnswer(res, what);
          if (res.status < 300) await readsBackWhole(`${acme.baseUrl}${path}`, what);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('filters, sorting, paging and projections of lists and searches', async () => {
    const params = body({
      filter: hostileFilter,
      sortBy: mostly(
        fc.constantFrom(
          'userName',
          'displayName',
          'meta.created',
          'emails',
          'name.familyName',
          'externalId',
          'title',
        ),
      ),
      sortOrder: mostly(fc.constantFrom('ascending', 'descending')),
      startIndex: mostly(fc.integer({ min: 1, max: 5 }).map(String)),
      count: mostly(fc.integer({ min: 0, max: 50 }).map(String)),
      cursor: fc.oneof(
        fc.constant(''),
        queryValue,
        fc.constantFrom(
          Buffer.from(
            JSON.stringify({
              v: 1,
              q: 'x',
              d: 'n',
              k: '2024-02-30 00:00:00+00',
              i: '00000000-0000-4000-8000-000000000000',
            }),
          ).toString('base64url'),
        ),
      ),
      attributes: fc.oneof(attribute, hostileText),
      excludedAttributes: fc.oneof(attribute, hostileText),
    }).map((query) => {
      // A client sends one paging style; both at once is a plain 400 that hides the rest.
      const { cursor, startIndex, attributes, excludedAttributes, ...rest } = query;
      const pick = counter++ % 4;
      return {
        ...rest,
        ...(pick === 0 && cursor !== undefined ? { cursor } : {}),
        ...(pick === 1 && startIndex !== undefined ? { startIndex } : {}),
        ...(pick === 2 && attributes !== undefined ? { attributes } : {}),
        ...(pick === 3 && excludedAttributes !== undefined ? { excludedAttributes } : {}),
      };
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/Users', '/Groups', '/'),
        fc.boolean(),
        params,
        async (type, asSearch, query) => {
          let res: Response;
          let what: string;
          if (asSearch) {
            const path = `${type === '/' ? '' : type}/.search`;
            const search = { schemas: [SEARCH_SCHEMA], ...query };
            what = `POST ${path} ${toJsonText(search).slice(0, 400)}`;
            res = await send('post', path, search);
          } else {
            const text = Object.entries(query)
              .flatMap(([k, v]) =>
                typeof v === 'string'
                  ? [`${encodeURIComponentLenient(k)}=${encodeURIComponentLenient(v)}`]
                  : [],
              )
              .join('&');
            what = `GET ${type}?${text.slice(0, 400)}`;
            res = await acme.get(`${type === '/' ? '/Users' : type}?${text}`);
          }
          checkAnswer(res, what);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('/Bulk requests', async () => {
    const bulkOperation = fc.oneof(
      fc
        .tuple(fc.constantFrom('POST', 'post'), userBody)
        .map(([method, data]) => ({ method, path: '/Users', bulkId: `b${++counter}`, data })),
      fc
        .tuple(fc.constantFrom('POST'), groupBody)
        .map(([method, data]) => ({ method, path: '/Groups', bulkId: `b${++counter}`, data })),
      fc
        .tuple(
          fc.constantFrom('PUT', 'PATCH', 'DELETE'),
          fc.constantFrom('Users', 'Groups'),
          pathSegment,
          anyValue,
        )
        .map(([method, type, id, data]) => ({ method, path: `/${type}/${id}`, data })),
      body({
        method: anyValue,
        path: anyValue,
        bulkId: anyValue,
        data: anyValue,
        version: anyValue,
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(bulkOperation, { minLength: 1, maxLength: 4 }),
        fc.option(fc.oneof(fc.nat(3), wrongType), { nil: undefined }),
        async (Operations, failOnErrors) => {
          const bulk = {
            schemas: [BULK_REQUEST_SCHEMA],
            Operations,
            ...(failOnErrors === undefined ? {} : { failOnErrors }),
          };
          const res = await send('post', '/Bulk', bulk);
          const what = `POST /Bulk ${toJsonText(bulk).slice(0, 500)}`;
          const answer = checkAnswer(res, what) as {
            Operations?: { method?: string; status?: string; location?: string }[];
          };
          for (const result of answer.Operations ?? []) {
            expect(Number(result.status), what).toBeLessThan(500);
            if (result.location && result.method !== 'DELETE' && Number(result.status) < 300)
              await readsBackWhole(result.location, `${what} (${String(result.method)})`);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS / 2 },
    );
  });

  it('paths with odd percent-encodings and any method, with and without a token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('get', 'post', 'put', 'patch', 'delete'),
        fc.array(pathSegment, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.oneof(fc.constant(undefined), userBody),
        async (method, segments, withToken, payload) => {
          const tail = segments.join('/');
          if (withToken) {
            const res = await send(method, `/${tail}`, payload);
            checkAnswer(res, `${method.toUpperCase()} /${tail}`);
          } else {
            const anonymous = supertest(harness.app)[method](`/scim/v2/${tail}`);
            const res = await anonymous
              .set('Content-Type', SCIM_JSON)
              .send(payload === undefined ? '' : toJsonText(payload));
            checkAnswer(res, `${method.toUpperCase()} /scim/v2/${tail} (no token)`, false);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('after all that, every request the tenant answered is in its request log, and lists still answer', async () => {
    const list = await acme.get('/Users?count=1000');
    checkAnswer(list, 'GET /Users?count=1000');
    expect(list.status).toBe(200);
    const groups = await acme.get('/Groups?count=1000');
    checkAnswer(groups, 'GET /Groups?count=1000');
    expect(groups.status).toBe(200);
    const answered = new Set(answeredRequestIds);
    await vi.waitFor(
      async () => {
        const { rows } = await sql<{
          request_id: string;
        }>`select request_id from scim_request_log where tenant_id = ${acme.tenant.id}`.execute(
          harness.db,
        );
        const logged = new Set(rows.map((r) => r.request_id));
        // Requests refused before the tenant was known (a bad slug) have no tenant log to be in.
        const missing = [...answered].filter((id) => !logged.has(id));
        expect(missing.length, `answered but not logged: ${missing.slice(0, 5).join(', ')}`).toBe(
          0,
        );
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
