import SCIMMY from 'scimmy';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../src/errors/scim-error.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  PAGINATION_CONFIG,
  parseListRequest,
  parseProjection,
} from '../../src/list/index.js';

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

describe('parseListRequest', () => {
  it('defaults to the first index page of DEFAULT_PAGE_SIZE in created order', () => {
    expect(parseListRequest({}, 'User')).toEqual({
      query: { page: { kind: 'index', startIndex: 1, count: DEFAULT_PAGE_SIZE } },
      projection: { filter: undefined, excludesMembers: false },
    });
  });

  it('reads query-string strings and SearchRequest numbers alike', () => {
    for (const params of [
      { startIndex: '11', count: '5' },
      { startIndex: 11, count: 5 },
      { startindex: '11', COUNT: '5' },
    ]) {
      expect(parseListRequest(params, 'User').query.page).toEqual({
        kind: 'index',
        startIndex: 11,
        count: 5,
      });
    }
  });

  it('clamps startIndex below 1 to 1, a negative count to 0, and a large count to MAX_PAGE_SIZE', () => {
    expect(parseListRequest({ startIndex: '0', count: '-3' }, 'User').query.page).toEqual({
      kind: 'index',
      startIndex: 1,
      count: 0,
    });
    expect(parseListRequest({ startIndex: '-9', count: '999999' }, 'Group').query.page).toEqual({
      kind: 'index',
      startIndex: 1,
      count: MAX_PAGE_SIZE,
    });
  });

  it.each([
    ['count', { count: 'abc' }],
    ['count', { count: '1.5' }],
    ['startIndex', { startIndex: '' }],
    ['count', { count: ['1', '2'] }],
    ['sortOrder', { sortBy: 'userName', sortOrder: 'up' }],
    ['sortBy', { sortBy: 'nope' }],
    ['sortBy', { sortBy: 'name' }],
    ['cursor', { cursor: '', startIndex: '1' }],
  ])('junk %s is 400 invalidValue', (name, params) => {
    const error = scimErrorOf(() => parseListRequest(params, 'User'));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidValue');
    expect(error.message).toContain(name);
  });

  it('sorts a multi-valued attribute by its value (RFC 7644 §3.4.2.3: the primary one)', () => {
    expect(parseListRequest({ sortBy: 'emails' }, 'User').query.sort).toMatchObject({
      attribute: { path: ['emails', 'value'], multiValued: true },
      order: 'ascending',
    });
  });

  it('parses the filter, and refuses a bad one as invalidFilter', () => {
    expect(parseListRequest({ filter: 'userName eq "a"' }, 'User').query.filter).toMatchObject({
      kind: 'compare',
      attribute: { path: ['userName'] },
    });
    for (const filter of ['', 'userName eq', 42]) {
      expect(scimErrorOf(() => parseListRequest({ filter }, 'User')).scimType).toBe(
        'invalidFilter',
      );
    }
  });

  it('resolves sortBy like a filter attribute, complex ones to their value', () => {
    expect(
      parseListRequest({ sortBy: 'NAME.familyName', sortOrder: 'Descending' }, 'User').query.sort,
    ).toEqual({
      attribute: {
        schema: '',
        path: ['name', 'familyName'],
        type: 'string',
        caseExact: false,
        multiValued: false,
      },
      order: 'descending',
    });
    expect(parseListRequest({ sortBy: `${ENTERPRISE}:manager` }, 'User').query.sort).toMatchObject({
      attribute: { schema: ENTERPRISE, path: ['manager', 'value'] },
      order: 'ascending',
    });
    expect(parseListRequest({ sortBy: 'meta.lastModified' }, 'Group').query.sort).toMatchObject({
      attribute: { path: ['meta', 'lastModified'], type: 'dateTime' },
    });
    // sortOrder alone changes nothing (RFC 7644 §3.4.2.3)
    expect(parseListRequest({ sortOrder: 'descending' }, 'User').query.sort).toBeUndefined();
  });

  it('cursor paging: an empty cursor is the first page; a bad cursor is invalidCursor', () => {
    expect(parseListRequest({ cursor: '', count: '10' }, 'User').query.page).toEqual({
      kind: 'cursor',
      cursor: null,
      count: 10,
    });
    for (const cursor of ['not a cursor', Buffer.from('{"v":1}').toString('base64url'), 7]) {
      const error = scimErrorOf(() => parseListRequest({ cursor }, 'User'));
      expect(error.status).toBe(400);
      expect(error.scimType).toBe('invalidCursor');
    }
    expect(scimErrorOf(() => parseListRequest({ cursor: '', count: 'x' }, 'User')).scimType).toBe(
      'invalidCount',
    );
  });

  it('advertises the RFC 9865 pagination object', () => {
    expect(PAGINATION_CONFIG).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: DEFAULT_PAGE_SIZE,
      maxPageSize: MAX_PAGE_SIZE,
      cursorTimeout: expect.any(Number),
    });
  });
});

describe('parseProjection', () => {
  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    id: '1',
    userName: 'ann',
    displayName: 'Ann',
    name: { givenName: 'Ann', familyName: 'Lee' },
    emails: [{ value: 'ann@x', type: 'work' }],
    [ENTERPRISE]: { employeeNumber: '7', department: 'R&D' },
    meta: { resourceType: 'User', created: '2020-01-01T00:00:00Z' },
  };
  const render = (filter: SCIMMY.Types.Filter | undefined) =>
    JSON.parse(
      JSON.stringify(new SCIMMY.Schemas.User(user, 'out', 'https://h/Users', filter)),
    ) as Record<string, unknown>;

  it('nothing asked: everything', () => {
    expect(parseProjection({}, 'User')).toEqual({ filter: undefined, excludesMembers: false });
  });

  it('attributes keeps schemas, id and meta, and works for sub-attributes and extensions', () => {
    SCIMMY.Resources.declare(SCIMMY.Resources.User).extend(SCIMMY.Schemas.EnterpriseUser, false);
    const { filter } = parseProjection(
      { attributes: `name.givenName,${ENTERPRISE}:employeeNumber` },
      'User',
    );
    const out = render(filter);
    expect(Object.keys(out).sort()).toEqual(['id', 'meta', 'name', 'schemas', ENTERPRISE].sort());
    expect(out.name).toEqual({ givenName: 'Ann' });
    expect(out[ENTERPRISE]).toEqual({ employeeNumber: '7' });
    expect(
      Object.keys(render(parseProjection({ attributes: ['userName'] }, 'User').filter)).sort(),
    ).toEqual(['id', 'meta', 'schemas', 'userName']);
  });

  it('excludedAttributes drops what is named, never id or schemas', () => {
    const out = render(
      parseProjection({ excludedAttributes: 'emails,id,name.familyName' }, 'User').filter,
    );
    expect(out.emails).toBeUndefined();
    expect(out.id).toBe('1');
    expect(out.name).toEqual({ givenName: 'Ann' });
  });

  it('meta goes whole or not at all (scimmy cannot project its sub-attributes)', () => {
    expect(
      render(parseProjection({ excludedAttributes: 'meta' }, 'User').filter).meta,
    ).toBeUndefined();
    expect(
      render(parseProjection({ excludedAttributes: 'meta.created' }, 'User').filter).meta,
    ).toBeDefined();
    expect(
      render(parseProjection({ attributes: 'meta.created' }, 'User').filter).meta,
    ).toBeDefined();
  });

  it('tells whether group members are needed', () => {
    expect(parseProjection({ excludedAttributes: 'members' }, 'Group').excludesMembers).toBe(true);
    expect(parseProjection({ excludedAttributes: ['Members'] }, 'Group').excludesMembers).toBe(
      true,
    );
    expect(parseProjection({ attributes: 'displayName' }, 'Group').excludesMembers).toBe(true);
    expect(parseProjection({ attributes: 'members.value' }, 'Group').excludesMembers).toBe(false);
    expect(
      parseProjection({ excludedAttributes: 'members.display' }, 'Group').excludesMembers,
    ).toBe(false);
    expect(parseProjection({}, 'Group').excludesMembers).toBe(false);
  });

  it('an unknown attribute is 400 invalidValue', () => {
    const error = scimErrorOf(() => parseProjection({ attributes: 'nope' }, 'User'));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe('invalidValue');
    expect(scimErrorOf(() => parseProjection({ attributes: [3] }, 'User')).scimType).toBe(
      'invalidValue',
    );
  });
});
