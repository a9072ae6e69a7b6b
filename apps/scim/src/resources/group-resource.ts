// The SCIM Group resource (RFC 7643 §4.2) <-> core's groups; members are rows, read a page at a time.
import type SCIMMY from 'scimmy';
import type { Group, GroupAttributes } from '@roster/core';
import { ScimError } from '../errors/scim-error.js';
import { etagOf } from '../http/etag.js';
import { isObject, readResourceBody, renderResource } from './scim-schema-io.js';
import { GROUP_SCHEMA } from '../scim-config.js';

type Json = Record<string, unknown>;

/** A member as SCIM shows it (RFC 7643 §4.2). */
export interface MemberView {
  readonly value: string;
  readonly type: 'User' | 'Group';
  readonly display: string | null;
}

/** The whole resource before projection; `members` undefined when the client excluded them. */
export function groupResource(
  group: Group,
  members: readonly MemberView[] | undefined,
  baseUrl: string,
): Json {
  const stored = group.scimResource as Json;
  return {
    ...stored,
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId !== null ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.value,
            type: m.type,
            ...(m.display !== null ? { display: m.display } : {}),
            $ref: `${baseUrl}/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      version: etagOf(group.version),
      location: `${baseUrl}/Groups/${group.id}`,
    },
  };
}

export const renderGroup = (resource: Json, groupsUrl: string, projection?: SCIMMY.Types.Filter) =>
  renderResource('Group', resource, groupsUrl, projection);

/** A POST/PUT body: the group's attributes and its member ids (absent: not asserted). */
export function readGroupBody(
  body: unknown,
  pathId?: string,
): { attributes: GroupAttributes; members: string[] | undefined; quirks: string[] } {
  // Entra adds "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group" to
  // `schemas` (test/interop/fixtures/entra.ts); scimmy keeps the core schema's attributes only.
  const { representation, quirks } = readResourceBody('Group', body, pathId);
  const members =
    isObject(body) && Array.isArray(body.members) ? memberIdsOf(body.members) : undefined;
  return { attributes: groupAttributesOf(representation), members, quirks };
}

/** Core's attributes from a coerced representation (without members, which are rows). */
export function groupAttributesOf(representation: Json): GroupAttributes {
  const { schemas: _s, meta: _m, id: _i, members: _members, ...kept } = representation;
  return {
    displayName: typeof kept.displayName === 'string' ? kept.displayName : '',
    externalId: typeof kept.externalId === 'string' ? kept.externalId : null,
    scimResource: kept,
  };
}

/** Member ids of a members array; a member without a value is 400 (RFC 7643 §4.2). Okta omits `type`: users. */
export function memberIdsOf(members: readonly unknown[]): string[] {
  return members.map((member, index) => {
    const value = isObject(member) ? member.value : undefined;
    if (typeof value !== 'string' || value === '')
      throw new ScimError(400, `members[${index}] has no value`, 'invalidValue');
    return value;
  });
}
