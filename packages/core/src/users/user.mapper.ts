// Rows of `users` <-> the domain User, in one place.
import type { Selectable } from 'kysely';
import type { UserTable } from '../db/database.js';
import type { User, UserEmail, UserSummary } from './user.js';

export type UserRow = Selectable<UserTable>;

/** The columns a listing reads; {@link toUserSummary} maps them. */
export const USER_SUMMARY_COLUMNS = [
  'id',
  'tenant_id',
  'user_name',
  'external_id',
  'display_name',
  'lifecycle_state',
  'source',
  'managed_by',
  'last_sign_in_at',
  'purge_after',
  'created_at',
  'version',
] as const satisfies readonly (keyof UserRow)[];

export function toUserSummary(
  row: Pick<UserRow, (typeof USER_SUMMARY_COLUMNS)[number]>,
): UserSummary {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userName: row.user_name,
    externalId: row.external_id,
    displayName: row.display_name,
    state: row.lifecycle_state,
    source: row.source,
    managedBy: row.managed_by,
    lastSignInAt: row.last_sign_in_at,
    purgeAfter: row.purge_after,
    createdAt: row.created_at,
    version: row.version,
  };
}

export function toUser(row: UserRow, emails: readonly UserEmail[]): User {
  return {
    ...toUserSummary(row),
    givenName: row.given_name,
    familyName: row.family_name,
    emails,
    active: row.active,
    inactiveReason: row.inactive_reason,
    adoptedAt: row.adopted_at,
    deprovisionedAt: row.deprovisioned_at,
    scimResource: row.scim_resource,
    updatedAt: row.updated_at,
  };
}
