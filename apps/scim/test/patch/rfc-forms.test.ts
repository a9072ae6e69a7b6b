import { describe, expect, it } from 'vitest';
import { applyGroupPatch, normalisePatchRequest, splitGroupPatch } from '../../src/patch/index.js';
import {
  ENTERPRISE,
  USER_SCHEMA,
  patchBody,
  patchUser,
  storedGroup,
  storedUser,
} from './fixtures.js';

// One test per form RFC 7644 §3.5.2 allows, on a stored user (or group) representation.
describe('RFC 7644 §3.5.2.1 add', () => {
  it('adds a single-valued attribute at a path', async () => {
    const { result } = await patchUser(patchBody({ op: 'add', path: 'nickName', value: 'Babs' }));
    expect(result).toMatchObject({ nickName: 'Babs', userName: 'bjensen@example.com' });
  });

  it('adds the attributes of a pathless value (the RFC example with emails and nickname)', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'add',
        value: { emails: [{ value: 'babs@jensen.org.example', type: 'other' }], nickname: 'Babs' },
      }),
    );
    expect(result?.nickName).toBe('Babs');
    expect(result?.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'babs@jensen.org.example', type: 'other' },
    ]);
  });

  it('appends to a multi-valued attribute and keeps the existing values', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'add',
        path: 'phoneNumbers',
        value: [{ value: 'tel:+1-201-555-0123', type: 'work' }],
      }),
    );
    expect(result?.phoneNumbers).toEqual([{ value: 'tel:+1-201-555-0123', type: 'work' }]);
    const { result: again } = await patchUser(
      patchBody({
        op: 'add',
        path: 'emails',
        value: [{ value: 'b@other.example', type: 'other' }],
      }),
    );
    expect(again?.emails).toHaveLength(3);
  });

  it('merges sub-attributes into a complex attribute', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'add', path: 'name', value: { middleName: 'Jane' } }),
    );
    expect(result?.name).toEqual({
      givenName: 'Barbara',
      familyName: 'Jensen',
      middleName: 'Jane',
    });
  });
});

describe('RFC 7644 §3.5.2.3 replace', () => {
  it('replaces one sub-attribute of the values a filter selects', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'replace',
        path: 'emails[type eq "work"].value',
        value: 'barbara@example.com',
      }),
    );
    expect(result?.emails).toEqual([
      { value: 'barbara@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('replaces the whole values a filter selects', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'replace',
        path: 'emails[type eq "home"]',
        value: { value: 'b@home.example', type: 'home' },
      }),
    );
    expect(result?.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'b@home.example', type: 'home' },
    ]);
  });

  it('replaces a complex attribute: sub-attributes not sent are left unchanged', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: 'name', value: { givenName: 'Barb' } }),
    );
    expect(result?.name).toEqual({ givenName: 'Barb', familyName: 'Jensen' });
  });

  it('replaces every value of a multi-valued attribute without a filter', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'replace',
        path: 'emails',
        value: [{ value: 'only@example.com', type: 'work' }],
      }),
    );
    expect(result?.emails).toEqual([{ value: 'only@example.com', type: 'work' }]);
  });

  it('replaces the attributes of a pathless value (a multi-valued one is replaced, not appended)', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'replace',
        value: { displayName: 'Barbara J', emails: [{ value: 'only@example.com', type: 'work' }] },
      }),
    );
    expect(result).toMatchObject({
      displayName: 'Barbara J',
      emails: [{ value: 'only@example.com', type: 'work' }],
    });
  });

  it('treats a replace of an attribute with no value as an add', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: 'title', value: 'Tour Guide' }),
    );
    expect(result?.title).toBe('Tour Guide');
  });

  it('accepts a path prefixed with the core schema URN', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: `${USER_SCHEMA}:displayName`, value: 'B. Jensen' }),
    );
    expect(result?.displayName).toBe('B. Jensen');
  });
});

describe('RFC 7644 §3.5.2.2 remove', () => {
  it('removes an attribute', async () => {
    const { result } = await patchUser(patchBody({ op: 'remove', path: 'displayName' }));
    expect(result).not.toHaveProperty('displayName');
    expect(result?.userName).toBe('bjensen@example.com');
  });

  it('removes the values a filter selects', async () => {
    const { result } = await patchUser(patchBody({ op: 'remove', path: 'emails[type eq "home"]' }));
    expect(result?.emails).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]);
  });

  it('removes a sub-attribute of the values a filter selects', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'remove', path: 'emails[type eq "work"].primary' }),
    );
    expect(result?.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('removes a sub-attribute of a complex attribute', async () => {
    const { result } = await patchUser(patchBody({ op: 'remove', path: 'name.familyName' }));
    expect(result?.name).toEqual({ givenName: 'Barbara' });
  });

  it('changes nothing when the filter matches no value (answered 204)', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'remove', path: 'emails[type eq "other"]' }),
    );
    expect(result).toBeUndefined();
  });
});

describe('RFC 7644 §3.10 URN paths into the enterprise extension', () => {
  it('replaces an extension attribute (the "2.0" in the URN is not a path separator)', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: `${ENTERPRISE}:department`, value: 'R&D' }),
    );
    expect(result?.[ENTERPRISE]).toEqual({
      employeeNumber: '701984',
      department: 'R&D',
      manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
    });
  });

  it('replaces a sub-attribute of an extension attribute, also when the user has no manager yet', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'm-2' }),
    );
    expect((result?.[ENTERPRISE] as Record<string, unknown>).manager).toEqual({ value: 'm-2' });
    const bare = storedUser();
    delete bare[ENTERPRISE];
    bare.schemas = [USER_SCHEMA];
    const { result: fresh } = await patchUser(
      patchBody({ op: 'add', path: `${ENTERPRISE}:manager.value`, value: 'm-3' }),
      bare,
    );
    expect(fresh?.[ENTERPRISE]).toEqual({ manager: { value: 'm-3' } });
    expect(fresh?.schemas).toEqual([USER_SCHEMA, ENTERPRISE]);
  });

  it('replaces the extension as a whole complex value (sub-attributes not sent are kept)', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: ENTERPRISE, value: { division: 'Theme Park' } }),
    );
    expect(result?.[ENTERPRISE]).toMatchObject({
      division: 'Theme Park',
      employeeNumber: '701984',
    });
  });

  it('removes one extension attribute, then the whole extension', async () => {
    const { result } = await patchUser(
      patchBody({ op: 'remove', path: `${ENTERPRISE}:employeeNumber` }),
    );
    expect(result?.[ENTERPRISE]).not.toHaveProperty('employeeNumber');
    const { result: gone } = await patchUser(patchBody({ op: 'remove', path: ENTERPRISE }));
    expect(gone).not.toHaveProperty([ENTERPRISE]);
    expect(gone?.schemas).toEqual([USER_SCHEMA]);
  });
});

describe('results', () => {
  it('answers undefined (204) when the operations change nothing', async () => {
    const { result } = await patchUser(patchBody({ op: 'replace', path: 'active', value: true }));
    expect(result).toBeUndefined();
  });

  it('keeps id, schemas and meta of the stored representation', async () => {
    const { result } = await patchUser(patchBody({ op: 'replace', path: 'title', value: 'Guide' }));
    expect(result).toMatchObject({
      id: storedUser().id,
      schemas: [USER_SCHEMA, ENTERPRISE],
      meta: storedUser().meta,
    });
  });

  it('patches a group attribute through scimmy', async () => {
    const { request } = normalisePatchRequest(
      patchBody(
        { op: 'replace', path: 'externalId', value: 'ext-1' },
        { op: 'replace', path: 'displayName', value: 'Guides' },
      ),
      'Group',
      storedGroup(),
    );
    const { attributes } = splitGroupPatch(request);
    expect(await applyGroupPatch(storedGroup(), attributes)).toMatchObject({
      id: storedGroup().id,
      displayName: 'Guides',
      externalId: 'ext-1',
    });
    expect(await applyGroupPatch(storedGroup(), [])).toBeUndefined();
  });
});
