import { describe, expect, it } from 'vitest';
import {
  normalisePatchRequest,
  splitGroupPatch,
  PATCH_OP_SCHEMA,
  type PatchRequest,
} from '../../src/patch/index.js';
import { GROUP_SCHEMA, failureOf, patchBody, storedGroup } from './fixtures.js';

const split = (...operations: unknown[]) =>
  splitGroupPatch(normalisePatchRequest(patchBody(...operations), 'Group', storedGroup()).request);

// Member changes become a delta (never through scimmy's PatchOp): the group's members are never loaded.
describe('splitGroupPatch', () => {
  it('adds members, deduplicated, with their type when sent', () => {
    expect(
      split({
        op: 'add',
        path: 'members',
        value: [{ value: 'u-1', type: 'User' }, { value: 'g-1', type: 'group' }, { value: 'u-1' }],
      }).members,
    ).toEqual({ add: [{ value: 'u-1' }, { value: 'g-1', type: 'Group' }], remove: [] });
  });

  it('removes members named by a filter joined by or', () => {
    expect(
      split({ op: 'remove', path: 'members[value eq "u-1" or value eq "u-2"]' }).members,
    ).toEqual({
      add: [],
      remove: ['u-1', 'u-2'],
    });
  });

  it('removes all members for a remove of members with no value and no filter', () => {
    expect(split({ op: 'remove', path: 'members' }).members).toEqual({
      add: [],
      remove: [],
      replaceAll: [],
    });
  });

  it('never removes all for a remove whose value list is empty', () => {
    expect(split({ op: 'remove', path: 'members', value: [] }).members).toEqual({
      add: [],
      remove: [],
    });
  });

  it('folds operations in order: an add after a remove of the same member keeps it', () => {
    expect(
      split(
        { op: 'remove', path: 'members[value eq "u-1"]' },
        { op: 'add', path: 'members', value: [{ value: 'u-1' }] },
      ).members,
    ).toEqual({ add: [{ value: 'u-1' }], remove: [] });
    expect(
      split(
        { op: 'add', path: 'members', value: [{ value: 'u-1' }] },
        { op: 'remove', path: 'members[value eq "u-1"]' },
      ).members,
    ).toEqual({ add: [], remove: ['u-1'] });
  });

  it('folds adds and removes after a replace into the replacement list', () => {
    expect(
      split(
        { op: 'add', path: 'members', value: [{ value: 'u-0' }] },
        { op: 'replace', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] },
        { op: 'add', path: 'members', value: [{ value: 'u-3' }] },
        { op: 'remove', path: 'members[value eq "u-1"]' },
      ).members,
    ).toEqual({ add: [], remove: [], replaceAll: [{ value: 'u-2' }, { value: 'u-3' }] });
  });

  it('splits members out of a pathless replace and keeps the other attributes for scimmy', () => {
    const { members, attributes } = split({
      op: 'replace',
      value: { displayName: 'Guides', members: [{ value: 'u-1', display: 'Ann' }] },
    });
    expect(members).toEqual({ add: [], remove: [], replaceAll: [{ value: 'u-1' }] });
    expect(attributes).toEqual([{ op: 'replace', path: 'displayName', value: 'Guides' }]);
  });

  it('splits members out of a pathless value given to it directly', () => {
    const request: PatchRequest = {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'add', value: { displayName: 'Guides', members: [{ value: 'u-1' }] } }],
    };
    expect(splitGroupPatch(request)).toEqual({
      members: { add: [{ value: 'u-1' }], remove: [] },
      attributes: [{ op: 'add', value: { displayName: 'Guides' } }],
    });
  });

  it('accepts the members path with the core schema URN', () => {
    expect(
      split({ op: 'add', path: `${GROUP_SCHEMA}:members`, value: [{ value: 'u-1' }] }).members.add,
    ).toEqual([{ value: 'u-1' }]);
  });

  it.each([
    [
      'a member without value',
      { op: 'add', path: 'members', value: [{ display: 'Ann' }] },
      'invalidValue',
    ],
    [
      'a member with an empty value',
      { op: 'add', path: 'members', value: [{ value: ' ' }] },
      'invalidValue',
    ],
    [
      'a member that is not an object',
      { op: 'add', path: 'members', value: ['u-1'] },
      'invalidValue',
    ],
    [
      'a member of an unknown type',
      { op: 'add', path: 'members', value: [{ value: 'u-1', type: 'Device' }] },
      'invalidValue',
    ],
    [
      'a members filter on another attribute',
      { op: 'remove', path: 'members[display eq "Ann"]' },
      'invalidPath',
    ],
    [
      'an add on a members filter',
      { op: 'add', path: 'members[value eq "u-1"]', value: { value: 'u-1' } },
      'invalidPath',
    ],
    [
      'a members sub-attribute',
      { op: 'replace', path: 'members.display', value: 'x' },
      'invalidPath',
    ],
  ])('rejects %s', async (_name, operation, scimType) => {
    expect(await failureOf(() => split(operation))).toEqual({ status: 400, scimType });
  });
});
