import SCIMMY from 'scimmy';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../src/errors/scim-error.js';
import {
  MAX_PATCH_OPERATIONS,
  PATCH_OP_SCHEMA,
  declareScimResources,
  normalisePatchRequest,
  toScimError,
} from '../../src/patch/index.js';
import { ENTERPRISE, USER_ID, failureOf, patchBody, patchUser, storedUser } from './fixtures.js';

const normaliseUser = (body: unknown) => normalisePatchRequest(body, 'User', storedUser());

// RFC 7644 §3.12: every bad PATCH is a 400 with the scimType the RFC names.
describe('the envelope (RFC 7644 §3.5.2)', () => {
  it.each([
    ['a body that is not an object', [], 'invalidSyntax'],
    ['no schemas', { Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalidSyntax'],
    [
      'the wrong schema',
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        Operations: [{ op: 'add', path: 'title', value: 'x' }],
      },
      'invalidSyntax',
    ],
    ['no Operations', { schemas: [PATCH_OP_SCHEMA] }, 'invalidValue'],
    [
      'Operations that is not an array',
      { schemas: [PATCH_OP_SCHEMA], Operations: { op: 'add' } },
      'invalidSyntax',
    ],
    ['empty Operations', patchBody(), 'invalidValue'],
    ['an operation that is not an object', patchBody('add'), 'invalidSyntax'],
    ['an unknown op', patchBody({ op: 'move', path: 'title', value: 'x' }), 'invalidSyntax'],
    ['a missing op', patchBody({ path: 'title', value: 'x' }), 'invalidSyntax'],
    ['an add without value', patchBody({ op: 'add', path: 'title' }), 'invalidValue'],
    ['a replace without value', patchBody({ op: 'replace', path: 'title' }), 'invalidValue'],
    ['a remove without path (RFC 7644 §3.5.2.2)', patchBody({ op: 'remove' }), 'noTarget'],
    ['a path that is not a string', patchBody({ op: 'add', path: 7, value: 'x' }), 'invalidPath'],
    [
      'a pathless add whose value is not an object',
      patchBody({ op: 'add', value: 'x' }),
      'invalidValue',
    ],
  ])('rejects %s', async (_name, body, scimType) => {
    expect(await failureOf(() => normaliseUser(body))).toEqual({ status: 400, scimType });
  });

  it(`rejects more than MAX_PATCH_OPERATIONS (${MAX_PATCH_OPERATIONS}) operations`, async () => {
    const operations = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, () => ({
      op: 'add',
      path: 'title',
      value: 'x',
    }));
    expect(await failureOf(() => normaliseUser(patchBody(...operations)))).toEqual({
      status: 400,
      scimType: 'invalidValue',
    });
  });

  it('accepts envelope attribute names in any case (RFC 7643 §2.1) and logs extra schemas', () => {
    const { request, quirks } = normaliseUser({
      schemas: [PATCH_OP_SCHEMA, 'urn:example:extra'],
      operations: [{ OP: 'add', Path: 'title', VALUE: 'x' }],
    });
    expect(request).toEqual({
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'add', path: 'title', value: 'x' }],
    });
    expect(quirks).toEqual([`ignored extra schema URIs next to '${PATCH_OP_SCHEMA}'`]);
  });
});

describe('paths (RFC 7644 §3.10)', () => {
  it.each([
    ['an unknown attribute', 'nonsense'],
    ['an unknown sub-attribute', 'name.nonsense'],
    ['an unknown schema URN', 'urn:ietf:params:scim:schemas:extension:acme:2.0:User:costCode'],
    ['an unknown extension attribute', `${ENTERPRISE}:nonsense`],
    ['a filter comparison without a value', 'emails[type eq].value'],
    ['a malformed filter', 'emails[type zz "work"].value'],
    ['a filter with two values', 'emails[type eq "a" "b"].value'],
    ['an unclosed filter', 'emails[type eq "work".value'],
    ['a filter on a single-valued attribute', 'name[givenName eq "x"].familyName'],
    ['text that is no path', 'emails..value'],
  ])('rejects %s with invalidPath', async (_name, path) => {
    expect(
      await failureOf(() => normaliseUser(patchBody({ op: 'replace', path, value: 'x' }))),
    ).toEqual({
      status: 400,
      scimType: 'invalidPath',
    });
  });

  it('rejects an unknown key of a pathless value with invalidPath', async () => {
    expect(
      await failureOf(() => normaliseUser(patchBody({ op: 'replace', value: { nonsense: 1 } }))),
    ).toEqual({
      status: 400,
      scimType: 'invalidPath',
    });
  });
});

describe('mutability (RFC 7643 §2.2, §3.1)', () => {
  it.each([
    ['a changed id at a path', { op: 'replace', path: 'id', value: 'another' }],
    [
      'a changed id in a pathless value',
      { op: 'replace', value: { id: 'another', active: false } },
    ],
    ['a removed id', { op: 'remove', path: 'id' }],
    ['meta', { op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }],
    ['the read-only groups of a user', { op: 'add', path: 'groups', value: [{ value: 'g-1' }] }],
  ])('rejects %s with mutability', async (_name, operation) => {
    expect(await failureOf(() => normaliseUser(patchBody(operation)))).toEqual({
      status: 400,
      scimType: 'mutability',
    });
  });

  it('drops an unchanged id at a path too', () => {
    const { request } = normaliseUser(patchBody({ op: 'replace', path: 'id', value: USER_ID }));
    expect(request.Operations).toEqual([]);
  });
});

describe('filters that match nothing', () => {
  it.each([
    ['a filter with another operator', 'emails[value co "zzz"].display'],
    ['a filter of terms joined by or', 'emails[type eq "other" or value eq "zzz"].display'],
    ['a filter with not', 'emails[not (type eq "home")].display'],
  ])('cannot describe a new value from %s: 400 noTarget', async (_name, path) => {
    const homeOnly = { ...storedUser(), emails: [{ value: 'babs@jensen.org', type: 'home' }] };
    expect(
      await failureOf(() =>
        normalisePatchRequest(patchBody({ op: 'add', path, value: 'x' }), 'User', homeOnly),
      ),
    ).toEqual({ status: 400, scimType: 'noTarget' });
  });

  it('needs an object to add a whole new value', async () => {
    expect(
      await failureOf(() =>
        normaliseUser(patchBody({ op: 'add', path: 'emails[type eq "other"]', value: 'x' })),
      ),
    ).toEqual({ status: 400, scimType: 'invalidValue' });
  });
});

describe('scimmy errors keep their status and scimType', () => {
  it('a value of the wrong type is 400 invalidValue', async () => {
    expect(
      await failureOf(() =>
        patchUser(patchBody({ op: 'replace', path: 'active', value: 'maybe' })),
      ),
    ).toEqual({
      status: 400,
      scimType: 'invalidValue',
    });
  });

  it('removing the required userName is 400 invalidValue', async () => {
    expect(await failureOf(() => patchUser(patchBody({ op: 'remove', path: 'userName' })))).toEqual(
      {
        status: 400,
        scimType: 'invalidValue',
      },
    );
  });

  it('a non-canonical email type is 400 invalidValue', async () => {
    expect(
      await failureOf(() =>
        patchUser(
          patchBody({ op: 'add', path: 'emails', value: [{ value: 'a@b.c', type: 'office' }] }),
        ),
      ),
    ).toEqual({ status: 400, scimType: 'invalidValue' });
  });

  it('toScimError maps a scimmy error and leaves any other error alone', () => {
    const mapped = toScimError(new SCIMMY.Types.Error(400, 'noTarget', 'nothing there'));
    expect(mapped).toBeInstanceOf(ScimError);
    expect(mapped).toMatchObject({ status: 400, scimType: 'noTarget', message: 'nothing there' });
    const bug = new TypeError('a bug');
    expect(toScimError(bug)).toBe(bug);
  });
});

describe('declareScimResources', () => {
  it('is idempotent: the extension is declared once, roles[].type takes any value', () => {
    declareScimResources();
    declareScimResources();
    const extensions = (SCIMMY.Schemas.User.definition.attributes as unknown[]).filter(
      (a): a is SCIMMY.Types.SchemaDefinition => a instanceof SCIMMY.Types.SchemaDefinition,
    );
    expect(extensions.map((e) => e.id)).toEqual([ENTERPRISE]);
    expect(SCIMMY.Resources.declared('User')).toBe(SCIMMY.Resources.User);
    expect(SCIMMY.Schemas.User.definition.attribute('roles.type').config.canonicalValues).toBe(
      false,
    );
  });
});
