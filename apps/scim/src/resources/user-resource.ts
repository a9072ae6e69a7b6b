// The SCIM User resource (RFC 7643 §4.1 + the enterprise extension §4.3) <-> core's one user.
import type SCIMMY from 'scimmy';
import type { User, UserAttributes, UserEmail } from '@roster/core';
import { etagOf } from '../http/etag.js';
import { isObject, readResourceBody, renderResource } from './scim-schema-io.js';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../scim-config.js';

type Json = Record<string, unknown>;

/** A group the user belongs to, for its readOnly `groups` attribute (RFC 7643 §4.1.2). */
export interface UserGroupRef {
  readonly value: string;
  readonly display: string;
}

const withoutNulls = (object: Json): Json =>
  Object.fromEntries(Object.entries(object).filter(([, v]) => v !== null && v !== undefined));

/**
 * The whole resource before projection: the representation SCIM last wrote, overlaid with the
 * values core keeps in columns (authoritative: a JIT user's attributes are refreshed there at
 * every sign-in), the user's groups and `meta`.
 */
export function userResource(user: User, groups: readonly UserGroupRef[], usersUrl: string): Json {
  const stored = user.scimResource as Json;
  const storedName = isObject(stored.name) ? stored.name : {};
  const name = withoutNulls({
    ...storedName,
    givenName: user.givenName,
    familyName: user.familyName,
  });
  // SCIM's emails keep what the IdP sent (display, ...); a JIT user's come from its assertion.
  const emails =
    user.managedBy === 'scim' && Array.isArray(stored.emails) ? stored.emails : user.emails;
  return withoutNulls({
    ...stored,
    schemas: [
      USER_SCHEMA,
      ...(isObject(stored[ENTERPRISE_USER_SCHEMA]) ? [ENTERPRISE_USER_SCHEMA] : []),
    ],
    id: user.id,
    externalId: user.externalId,
    userName: user.userName,
    displayName: user.displayName,
    name: Object.keys(name).length > 0 ? name : undefined,
    emails: emails.length > 0 ? emails : undefined,
    active: user.active,
    groups: groups.length > 0 ? groups.map((g) => ({ ...g, type: 'direct' })) : undefined,
    meta: {
      resourceType: 'User',
      created: user.createdAt.toISOString(),
      lastModified: user.updatedAt.toISOString(),
      version: etagOf(user.version),
      location: `${usersUrl}/${user.id}`,
    },
  });
}

/** What a client sees of a user (projection by scimmy). */
export const renderUser = (resource: Json, usersUrl: string, projection?: SCIMMY.Types.Filter) =>
  renderResource('User', resource, usersUrl, projection);

/** A POST/PUT body as core's attributes (RFC 7643 §4.1), and as the coerced representation. */
export function readUserBody(
  body: unknown,
  pathId?: string,
): { attributes: UserAttributes; representation: Json; quirks: string[] } {
  const { representation, quirks } = readResourceBody('User', body, pathId);
  return { attributes: userAttributesOf(representation), representation, quirks };
}

/**
 * Core's attributes from a coerced SCIM representation (also what a PATCH produced). With the
 * `current` user, a manager that stays the same is not asked for again (core checks a manager
 * that is set), so a manager deprovisioned since stays until the IdP changes it.
 */
export function userAttributesOf(representation: Json, current?: User): UserAttributes {
  const {
    schemas: _schemas,
    meta: _meta,
    id: _id,
    groups: _groups,
    password: _password,
    ...kept
  } = JSON.parse(JSON.stringify(representation)) as Json;
  const name = isObject(kept.name) ? kept.name : {};
  const emails: UserEmail[] = Array.isArray(kept.emails)
    ? kept.emails.filter(isObject).map((e) => ({
        value: String(e.value),
        ...(typeof e.type === 'string' ? { type: e.type } : {}),
        ...(e.primary === true ? { primary: true } : {}),
      }))
    : [];
  return {
    userName: typeof kept.userName === 'string' ? kept.userName : '',
    externalId: typeof kept.externalId === 'string' ? kept.externalId : null,
    displayName: typeof kept.displayName === 'string' ? kept.displayName : null,
    givenName: typeof name.givenName === 'string' ? name.givenName : null,
    familyName: typeof name.familyName === 'string' ? name.familyName : null,
    emails,
    ...(typeof kept.active === 'boolean' ? { active: kept.active } : {}),
    ...(current && managerIdOf(current.scimResource) === managerIdOf(kept)
      ? {}
      : { managerId: managerIdOf(kept) }),
    scimResource: kept,
  };
}

/** The enterprise `manager.value` (RFC 7643 §4.3), which core checks names a user of the tenant. */
function managerIdOf(representation: Readonly<Json>): string | null {
  const enterprise = representation[ENTERPRISE_USER_SCHEMA];
  const manager = isObject(enterprise) ? enterprise.manager : undefined;
  const value = isObject(manager) ? manager.value : undefined;
  return typeof value === 'string' ? value : null;
}
