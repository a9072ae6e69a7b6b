import { describe, expect, it } from 'vitest';
import type { Filter } from '@roster/core';
import { ScimError } from '../../src/errors/scim-error.js';
import {
  attachValuePathSubAttributes,
  MAX_FILTER_COMPARISONS,
  parseScimFilter,
} from '../../src/filter/index.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function scimErrorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError');
}

describe('parseScimFilter: attributes resolved against the schemas', () => {
  it('resolves names case-insensitively to their canonical spelling and properties', () => {
    expect(parseScimFilter('USERNAME eq "Bjensen"', 'User')).toEqual({
      kind: 'compare',
      op: 'eq',
      value: 'Bjensen',
      attribute: {
        schema: '',
        path: ['userName'],
        type: 'string',
        caseExact: false,
        multiValued: false,
      },
    });
    expect(parseScimFilter('externalid eq "x"', 'User')).toMatchObject({
      attribute: { path: ['externalId'], caseExact: true },
    });
    expect(parseScimFilter('Name.GivenName sw "b"', 'User')).toMatchObject({
      attribute: { path: ['name', 'givenName'], multiValued: false },
    });
    expect(parseScimFilter('meta.lastModified gt "2011-05-13T04:42:34Z"', 'User')).toMatchObject({
      attribute: { path: ['meta', 'lastModified'], type: 'dateTime' },
    });
    expect(parseScimFilter('meta.created lt "2020-01-01"', 'Group')).toMatchObject({
      attribute: { path: ['meta', 'created'], type: 'dateTime' },
    });
    expect(parseScimFilter('id eq "abc"', 'Group')).toMatchObject({
      attribute: { path: ['id'], caseExact: true },
    });
  });

  it('resolves URN-qualified paths without splitting the URN on its dots', () => {
    expect(
      parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"', 'User'),
    ).toMatchObject({ attribute: { schema: '', path: ['userName'] } });
    expect(parseScimFilter(`${ENTERPRISE}:manager.value eq "m1"`, 'User')).toMatchObject({
      attribute: { schema: ENTERPRISE, path: ['manager', 'value'], type: 'string' },
    });
    expect(
      parseScimFilter(`${ENTERPRISE.toUpperCase()}:EMPLOYEENUMBER eq "7"`, 'User'),
    ).toMatchObject({
      attribute: { schema: ENTERPRISE, path: ['employeeNumber'] },
    });
    expect(
      parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "a"', 'Group'),
    ).toMatchObject({
      attribute: { schema: '', path: ['displayName'] },
    });
  });

  it('reads a complex attribute compared as a whole as its value (RFC 7644 §3.4.2.2)', () => {
    expect(parseScimFilter('emails co "example.com"', 'User')).toMatchObject({
      attribute: { path: ['emails', 'value'], multiValued: true },
      op: 'co',
    });
    expect(parseScimFilter('members eq "abc"', 'Group')).toMatchObject({
      attribute: { path: ['members', 'value'], multiValued: true },
    });
    expect(parseScimFilter(`${ENTERPRISE}:manager eq "m"`, 'User')).toMatchObject({
      attribute: { path: ['manager', 'value'], schema: ENTERPRISE },
    });
  });

  it('keeps not, grouping and valuePaths as they were written', () => {
    const filter = parseScimFilter(
      'not (userName eq "a" or userName eq "b") and ((title pr))',
      'User',
    );
    expect(filter).toMatchObject({
      kind: 'and',
      filters: [
        { kind: 'not', filter: { kind: 'or', filters: [{ value: 'a' }, { value: 'b' }] } },
        { kind: 'compare', op: 'pr', attribute: { path: ['title'] } },
      ],
    });
    expect(parseScimFilter('emails[type eq "work" and value co "@x"]', 'User')).toEqual({
      kind: 'element',
      attribute: 'emails',
      schema: '',
      filter: {
        kind: 'and',
        filters: [
          expect.objectContaining({
            attribute: expect.objectContaining({ path: ['emails', 'type'] }),
          }),
          expect.objectContaining({
            attribute: expect.objectContaining({ path: ['emails', 'value'] }),
          }),
        ],
      },
    });
    // on a singular complex attribute the conditions are plain ones
    expect(parseScimFilter('name[givenName eq "a"]', 'User')).toMatchObject({
      kind: 'compare',
      attribute: { path: ['name', 'givenName'], multiValued: false },
    });
  });

  it('reads escaped quotes in values', () => {
    expect(parseScimFilter('externalId eq "x\\"y"', 'User')).toMatchObject({ value: 'x"y' });
  });

  it('decodes every JSON escape in a string value (RFC 7644 §3.4.2.2, RFC 8259 §7)', () => {
    const valueOf = (text: string) =>
      (parseScimFilter(`externalId eq "${text}"`, 'User') as { value: unknown }).value;
    expect(valueOf(String.raw`ann\u0040example.com`)).toBe('ann@example.com');
    expect(valueOf(String.raw`\u00e9l\u00E8ve`)).toBe('élève');
    expect(valueOf(String.raw`a\\b`)).toBe('a\\b');
    expect(valueOf(String.raw`a\/b\tc\nd`)).toBe('a/b\tc\nd');
    expect(valueOf(String.raw`q\\\"`)).toBe('q\\"');
    expect(valueOf(String.raw`\ud83d\ude00`)).toBe('\u{1F600}');
    // inside a value filter too
    expect(
      parseScimFilter(String.raw`emails[value eq "ann\u0040example.com"]`, 'User'),
    ).toMatchObject({ filter: { value: 'ann@example.com' } });
  });

  it('refuses an escape JSON does not have', () => {
    for (const text of [
      String.raw`a\x41`,
      String.raw`\u12`,
      String.raw`\uZZZZ`,
      String.raw`\u0000`,
      String.raw`\ud800`,
    ]) {
      const error = scimErrorOf(() => parseScimFilter(`externalId eq "${text}"`, 'User'));
      expect(error.scimType).toBe('invalidFilter');
      expect(error.message).toMatch(/escape/);
      expect(error.message).not.toMatch(/JSON at position|Unexpected/);
    }
  });

  it('treats Entra\'s emails[type eq "work"].value eq "x" as one element', () => {
    const filter = parseScimFilter('emails[type eq "work"].value eq "x@y"', 'User');
    expect(filter).toMatchObject({
      kind: 'element',
      attribute: 'emails',
      filter: {
        kind: 'and',
        filters: [
          { attribute: { path: ['emails', 'type'] }, value: 'work' },
          { attribute: { path: ['emails', 'value'] }, value: 'x@y' },
        ],
      },
    });
    expect(attachValuePathSubAttributes('a eq "x].y eq 1" and emails[type eq "w"].value pr')).toBe(
      'a eq "x].y eq 1" and emails[(type eq "w") and value pr]',
    );
    expect(
      parseScimFilter('emails[type eq "work"].value eq "x" or userName eq "b"', 'User'),
    ).toMatchObject({
      kind: 'or',
      filters: [{ kind: 'element' }, { kind: 'compare' }],
    });
  });

  it('normalises values by type', () => {
    expect(parseScimFilter('active eq true', 'User')).toMatchObject({ value: true });
    expect(parseScimFilter('active eq "False"', 'User')).toMatchObject({ value: false });
    expect(parseScimFilter(`${ENTERPRISE}:employeeNumber eq 701984`, 'User')).toMatchObject({
      value: '701984',
    });
    expect(parseScimFilter('title eq null', 'User')).toMatchObject({ value: null });
  });

  const invalidFilters: [string, string, RegExp][] = [
    ['empty', '  ', /empty/],
    ['missing value', 'userName eq', /syntax/],
    ['unknown operator', 'userName xx "a"', /syntax/],
    ['unbalanced parenthesis', '(userName eq "a"', /syntax/],
    ['unbalanced bracket', 'emails[type eq "work"', /syntax/],
    ['trailing garbage', 'userName eq "a" garbage', /syntax/],
    ['dangling and', 'userName eq "a" and', /syntax/],
    ['unknown attribute', 'nickname2 eq "a"', /unknown attribute nickname2/],
    ['unknown sub-attribute', 'name.nope eq "a"', /unknown attribute name\.nope/],
    ['three segments', 'name.givenName.x eq "a"', /unknown attribute/],
    ['unknown schema', 'urn:example:nope:attr eq "a"', /unknown attribute/],
    ['extension attribute on a group', `${ENTERPRISE}:employeeNumber eq "7"`, /unknown attribute/],
    ['user attribute on a group', 'userName eq "a"', /unknown attribute userName/],
    ['complex without value', 'name eq "a"', /name is complex/],
    ['gt on a boolean', 'active gt true', /gt cannot compare boolean active/],
    ['boolean compared with a string', 'active eq "yes"', /true or false/],
    ['co on a dateTime', 'meta.created co "2020"', /co cannot compare dateTime/],
    ['not a date', 'meta.lastModified gt "yesterday"', /date-time/],
    ['gt null', 'title gt null', /null/],
    ['string compared with a boolean', 'userName eq true', /compared with a string/],
    ['valuePath on a simple attribute', 'userName[value eq "a"]', /not complex/],
    ['nested valuePath', 'emails[type[value eq "a"] eq "b"]', /syntax|nested|no sub-attribute/],
    [
      'unknown sub-attribute in a valuePath',
      'emails[nope eq "a"]',
      /emails has no sub-attribute nope/,
    ],
    ['meta.location', 'meta.location eq "x"', /cannot be filtered/],
    ['password', 'password eq "x"', /cannot be filtered/],
    ['schemas', 'schemas eq "x"', /cannot be filtered/],
    ['members.$ref on a group', 'members.$ref eq "x"', /syntax/],
    [
      'members with an unknown sub-attribute on a group',
      'members[nope eq "x"]',
      /members has no sub-attribute nope/,
    ],
  ];
  it.each(invalidFilters)('400 invalidFilter: %s', (_, expression, detail) => {
    const resource = /group|members/i.test(_) ? 'Group' : 'User';
    const error = scimErrorOf(() => parseScimFilter(expression, resource));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.message).toMatch(detail);
  });

  it('refuses filters with too many comparisons', () => {
    const many = Array.from(
      { length: MAX_FILTER_COMPARISONS + 1 },
      (_, i) => `title eq "${i}"`,
    ).join(' or ');
    expect(scimErrorOf(() => parseScimFilter(many, 'User')).scimType).toBe('invalidFilter');
  });

  it('reads operators case-insensitively', () => {
    const walk = (f: Filter): string[] =>
      f.kind === 'compare'
        ? [f.op]
        : f.kind === 'not' || f.kind === 'element'
          ? walk(f.filter)
          : f.filters.flatMap(walk);
    expect(
      walk(parseScimFilter('title EQ "x" or title Pr or title SW "a" or title le "z"', 'User')),
    ).toEqual(['eq', 'pr', 'sw', 'le']);
  });
});
