import { describe, expect, it } from 'vitest';
import { applyGroupPatch, normalisePatchRequest, splitGroupPatch } from '../../src/patch/index.js';
import {
  ENTERPRISE,
  GROUP_ID,
  USER_SCHEMA,
  failureOf,
  patchBody,
  patchUser,
  storedGroup,
  storedUser,
} from './fixtures.js';

// The request bodies are the ones each IdP's documents or public threads show (sources as in
// test/interop/fixtures).

/** What the groups route does: normalise, split, patch the attributes. */
async function patchGroup(body: unknown, current = storedGroup()) {
  const { request, quirks } = normalisePatchRequest(body, 'Group', current);
  const { members, attributes } = splitGroupPatch(request);
  return { members, result: await applyGroupPatch(current, attributes), quirks };
}

describe('Microsoft Entra ID', () => {
  it('[E1] reads capitalised ops ("Replace") and logs it', async () => {
    const { result, quirks } = await patchUser(
      patchBody({ op: 'Replace', path: 'displayName', value: 'Barbara Jensen' }),
    );
    expect(result?.displayName).toBe('Barbara Jensen');
    expect(quirks).toEqual(["operation 1: op 'Replace' read as 'replace' (Entra ID)"]);
  });

  it('[E2] reads "False" on the boolean active as false (without aadOptscim062020)', async () => {
    const { result, quirks } = await patchUser(
      patchBody({ op: 'Replace', path: 'active', value: 'False' }),
    );
    expect(result?.active).toBe(false);
    expect(quirks).toContain(
      "operation 1: string boolean for 'active' read as a boolean (Entra ID)",
    );
  });

  it('[E3] restores with "True" on active', async () => {
    const inactive = { ...storedUser(), active: false };
    const { result } = await patchUser(
      patchBody({ op: 'Replace', path: 'active', value: 'True' }),
      inactive,
    );
    expect(result?.active).toBe(true);
  });

  it('[B1] reads a string "True" on emails[].primary, in a filtered path and inside a value', async () => {
    const { result } = await patchUser(
      patchBody(
        { op: 'replace', path: 'emails[type eq "home"].primary', value: 'True' },
        { op: 'replace', path: 'emails[type eq "work"].primary', value: 'false' },
        {
          op: 'add',
          path: 'phoneNumbers',
          value: [{ value: 'tel:+1-555', type: 'work', primary: 'TRUE' }],
        },
      ),
    );
    expect(result?.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home', primary: true },
    ]);
    expect(result?.phoneNumbers).toEqual([{ value: 'tel:+1-555', type: 'work', primary: true }]);
  });

  it('[E2] splits the pathless multi-attribute replace whose keys are paths (URN kept whole)', async () => {
    // Sent with ?aadOptscim062020, together with a filtered email replace.
    const { result, quirks } = await patchUser(
      patchBody(
        {
          op: 'replace',
          value: {
            displayName: 'Bjfe',
            'name.givenName': 'Kkom',
            'name.familyName': 'Unua',
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': 'Aklq',
          },
        },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'x@test.microsoft.com' },
      ),
    );
    expect(result).toMatchObject({
      displayName: 'Bjfe',
      name: { givenName: 'Kkom', familyName: 'Unua' },
      emails: [
        { value: 'x@test.microsoft.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      [ENTERPRISE]: { employeeNumber: 'Aklq', department: 'Tour Operations' },
    });
    expect(quirks).toEqual([
      "operation 1: pathless value key 'name.givenName' read as a path (Entra ID)",
      "operation 1: pathless value key 'name.familyName' read as a path (Entra ID)",
      `operation 1: pathless value key '${ENTERPRISE}:employeeNumber' read as a path (Entra ID)`,
    ]);
  });

  it('[SCIM-SDK#416, B1] creates the work email an add on a filtered path does not find', async () => {
    const homeOnly = { ...storedUser(), emails: [{ value: 'babs@jensen.org', type: 'home' }] };
    const { result, quirks } = await patchUser(
      patchBody({ op: 'add', path: 'emails[type eq "work"].value', value: 'u@example.com' }),
      homeOnly,
    );
    expect(result?.emails).toEqual([
      { value: 'babs@jensen.org', type: 'home' },
      { type: 'work', value: 'u@example.com' },
    ]);
    expect(quirks).toEqual([
      `operation 1: 'emails[type eq "work"].value' matched no value, so a new 'emails' value is added (Entra ID)`,
    ]);
  });

  it('[scimmy#95] creates one work address for several filtered adds in one request', async () => {
    const { result } = await patchUser(
      patchBody(
        { op: 'Add', path: 'addresses[type eq "work"].locality', value: 'NYC' },
        { op: 'Add', path: 'addresses[type eq "work"].postalCode', value: '10001' },
        { op: 'Replace', path: 'addresses[type eq "work"].primary', value: 'True' },
      ),
    );
    expect(result?.addresses).toEqual([
      { type: 'work', locality: 'NYC', postalCode: '10001', primary: true },
    ]);
  });

  it('leaves a filtered add that matches an existing value to the plain RFC meaning', async () => {
    const { result, quirks } = await patchUser(
      patchBody({ op: 'add', path: 'emails[type eq "work"].display', value: 'Work' }),
    );
    expect(result?.emails).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true, display: 'Work' },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(quirks).toEqual([]);
  });

  it('[SSOReady ba6bd08] wraps the enterprise manager sent as a bare id', async () => {
    const { result, quirks } = await patchUser(
      patchBody({
        op: 'Add',
        path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
        value: 'e8a5e3b3-0d2a-4f0a-bb0e-3d2e4c0f1a77',
      }),
    );
    expect((result?.[ENTERPRISE] as Record<string, unknown>).manager).toEqual({
      value: 'e8a5e3b3-0d2a-4f0a-bb0e-3d2e4c0f1a77',
    });
    expect(quirks).toContain("operation 1: string 'manager' read as { value } (Entra ID)");
  });

  it('wraps a bare-id manager inside a pathless value and inside an extension value', async () => {
    const { result } = await patchUser(
      patchBody(
        { op: 'replace', value: { [`${ENTERPRISE}:manager`]: 'm-1' } },
        { op: 'replace', path: ENTERPRISE, value: { costCenter: '4130', manager: 'm-2' } },
      ),
    );
    expect(result?.[ENTERPRISE]).toMatchObject({ costCenter: '4130', manager: { value: 'm-2' } });
  });

  it('accepts roles with Entra ID role types (scimmy rejects every roles[].type)', async () => {
    const { result } = await patchUser(
      patchBody({
        op: 'Add',
        path: 'roles',
        value: [{ value: 'Tour.Admin', type: 'WindowsAzureActiveDirectoryRole', primary: 'False' }],
      }),
    );
    expect(result?.roles).toEqual([
      { value: 'Tour.Admin', type: 'WindowsAzureActiveDirectoryRole', primary: false },
    ]);
  });

  it('[E2] removes only the members listed in the value of a remove on members (old form)', async () => {
    const { members } = await patchGroup(
      patchBody({ op: 'Remove', path: 'members', value: [{ value: 'u1091' }] }),
    );
    expect(members).toEqual({ add: [], remove: ['u1091'] });
  });

  it('[E2] removes a member by filter (aadOptscim062020)', async () => {
    const { members } = await patchGroup(
      patchBody({ op: 'remove', path: 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]' }),
    );
    expect(members).toEqual({ add: [], remove: ['7f4bc1a3-285e-48ae-8202-5accb43efb0e'] });
  });

  it('[E1] adds a member sent with "$ref": null, and answers 204 (no attribute changed)', async () => {
    const { members, result } = await patchGroup(
      patchBody({
        op: 'Add',
        path: 'members',
        value: [{ $ref: null, value: 'f648f8d5ea4e4cd38e9c' }],
      }),
    );
    expect(members).toEqual({ add: [{ value: 'f648f8d5ea4e4cd38e9c' }], remove: [] });
    expect(result).toBeUndefined();
  });
});

describe('Okta [O1]', () => {
  it('deactivates with a pathless replace of {"active": false}', async () => {
    const { result, quirks } = await patchUser(
      patchBody({ op: 'replace', value: { active: false } }),
    );
    expect(result?.active).toBe(false);
    expect(quirks).toEqual([]);
  });

  it('renames a group with a value that repeats the unchanged id', async () => {
    const { result, quirks } = await patchGroup(
      patchBody({ op: 'replace', value: { id: GROUP_ID, displayName: 'Test SCIMv2' } }),
    );
    expect(result).toMatchObject({ id: GROUP_ID, displayName: 'Test SCIMv2' });
    expect(quirks).toEqual(["operation 1: ignored the unchanged 'id' in the value (Okta)"]);
  });

  it('answers 204 for a rename that repeats both the id and the name', async () => {
    const { result } = await patchGroup(
      patchBody({ op: 'replace', value: { id: GROUP_ID, displayName: 'Tour Guides' } }),
    );
    expect(result).toBeUndefined();
  });

  it('rejects a rename whose value carries a different id (400 mutability)', async () => {
    expect(
      await failureOf(() =>
        patchGroup(
          patchBody({ op: 'replace', value: { id: 'another-id', displayName: 'Test SCIMv2' } }),
        ),
      ),
    ).toEqual({ status: 400, scimType: 'mutability' });
  });

  it('changes membership with a filtered remove and an add of members without type', async () => {
    const { members } = await patchGroup(
      patchBody(
        { op: 'remove', path: 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]' },
        {
          op: 'add',
          path: 'members',
          value: [
            { value: '23a35c27-23d3-4c03-b4c5-6443c09e7173', display: 'test.user@okta.local' },
          ],
        },
      ),
    );
    // No type: the route resolves it from the stored resource (SCIM-SDK#419).
    expect(members).toEqual({
      add: [{ value: '23a35c27-23d3-4c03-b4c5-6443c09e7173' }],
      remove: ['89bb1940-b905-4575-9e7f-6f887cfb368e'],
    });
  });

  it('replaces the full member list', async () => {
    const { members } = await patchGroup(
      patchBody({
        op: 'replace',
        path: 'members',
        value: [{ value: 'u-1' }, { value: 'u-2', type: 'User' }],
      }),
    );
    expect(members).toEqual({
      add: [],
      remove: [],
      replaceAll: [{ value: 'u-1' }, { value: 'u-2', type: 'User' }],
    });
  });

  it('ignores a password change (OIN apps PATCH it; Roster keeps no passwords)', async () => {
    const { result, quirks, request } = await patchUser(
      patchBody({ op: 'replace', value: { password: '1mz050nq' } }),
    );
    expect(result).toBeUndefined();
    expect(request.Operations).toEqual([]);
    expect(quirks).toEqual(["operation 1: ignored 'password': Roster keeps no passwords (Okta)"]);
  });
});

describe('JumpCloud [S1]', () => {
  it('renames a group with a pathless replace', async () => {
    const { result, members } = await patchGroup(
      patchBody({ op: 'replace', value: { displayName: 'New name' } }),
    );
    expect(result?.displayName).toBe('New name');
    expect(members).toEqual({ add: [], remove: [] });
  });

  it('adds every member of the value list (not only the first)', async () => {
    const { members } = await patchGroup(
      patchBody({ op: 'add', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] }),
    );
    expect(members.add).toEqual([{ value: 'u-1' }, { value: 'u-2' }]);
  });
});

describe('boolean strings only where the schema says boolean', () => {
  it('keeps "True" on a string attribute as the string, and logs nothing', async () => {
    const { result, quirks } = await patchUser(
      patchBody({ op: 'replace', value: { title: 'True', nickName: 'false' } }),
    );
    expect(result).toMatchObject({ title: 'True', nickName: 'false' });
    expect(quirks).toEqual([]);
  });

  it('keeps the schemas of a user that had no extension', async () => {
    const bare = storedUser();
    delete bare[ENTERPRISE];
    bare.schemas = [USER_SCHEMA];
    const { result } = await patchUser(
      patchBody({ op: 'replace', path: 'active', value: 'false' }),
      bare,
    );
    expect(result).toMatchObject({ schemas: [USER_SCHEMA], active: false });
  });
});
