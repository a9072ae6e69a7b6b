// Reading and writing users inside a use case's transaction: rows <-> the domain User, in one place.
import { sql, type Selectable } from 'kysely';
import type { UserTable } from '../db/database.js';
import type { Db, Tx } from '../db/transaction.js';
import { identityKey } from '../reconciliation/identity-key.js';
import type { User, UserAttributes, UserEmail, UserSummary } from './user.js';

type UserRow = Selectable<UserTable>;

/** Loads users (with their emails) matching `where`, locked FOR UPDATE until the transaction ends. */
async function lockUsers(
  tx: Tx,
  tenantId: string,
  where: (q: ReturnType<typeof baseQuery>) => ReturnType<typeof baseQuery>,
): Promise<User[]> {
  const rows = await where(baseQuery(tx, tenantId)).orderBy('users.id').forUpdate().execute();
  return withEmails(tx, rows);
}

const baseQuery = (tx: Tx, tenantId: string) =>
  tx.selectFrom('users').selectAll('users').where('users.tenant_id', '=', tenantId);

export async function lockUserById(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<User | undefined> {
  return (await lockUsers(tx, tenantId, (q) => q.where('users.id', '=', id)))[0];
}

export async function lockUserByUserName(
  tx: Tx,
  tenantId: string,
  userName: string,
): Promise<User | undefined> {
  return (
    await lockUsers(tx, tenantId, (q) => q.where('users.user_name_key', '=', identityKey(userName)))
  )[0];
}

/** The users holding a userName and an externalId, locked together in one query. */
export async function lockUsersByUserNameOrExternalId(
  tx: Tx,
  tenantId: string,
  userName: string,
  externalId: string | null | undefined,
): Promise<{ byUserName: User | undefined; byExternalId: User | undefined }> {
  const key = identityKey(userName);
  const users = await lockUsers(tx, tenantId, (q) =>
    q.where((eb) =>
      externalId
        ? eb.or([eb('users.user_name_key', '=', key), eb('users.external_id', '=', externalId)])
        : eb('users.user_name_key', '=', key),
    ),
  );
  return {
    byUserName: users.find((u) => identityKey(u.userName) === key),
    byExternalId: externalId ? users.find((u) => u.externalId === externalId) : undefined,
  };
}

export async function lockUsersByEmail(tx: Tx, tenantId: string, email: string): Promise<User[]> {
  const key = identityKey(email);
  return lockUsers(tx, tenantId, (q) =>
    q.where(
      'users.id',
      'in',
      tx
        .selectFrom('user_emails')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where('value_key', '=', key),
    ),
  );
}

/** Users a SAML link points at whose NameID is one of `nameIds` (compared as identity keys). */
export async function lockUsersByLinkedNameId(
  tx: Tx,
  tenantId: string,
  nameIds: readonly string[],
): Promise<User[]> {
  const keys = [...new Set(nameIds.map(identityKey))];
  if (keys.length === 0) return [];
  return lockUsers(tx, tenantId, (q) =>
    q.where(
      'users.id',
      'in',
      tx
        .selectFrom('saml_links')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where(sql<string>`lower(name_id)`, 'in', keys),
    ),
  );
}

/** The columns a door's attributes set (promoted for filtering and matching). */
function attributeColumns(attributes: UserAttributes) {
  return {
    user_name: attributes.userName,
    user_name_key: identityKey(attributes.userName),
    ...(attributes.externalId !== undefined ? { external_id: attributes.externalId } : {}),
    ...(attributes.displayName !== undefined ? { display_name: attributes.displayName } : {}),
    ...(attributes.givenName !== undefined ? { given_name: attributes.givenName } : {}),
    ...(attributes.familyName !== undefined ? { family_name: attributes.familyName } : {}),
    ...(attributes.scimResource !== undefined
      ? { scim_resource: { ...attributes.scimResource } }
      : {}),
  };
}

export async function insertUser(
  tx: Tx,
  tenantId: string,
  attributes: UserAttributes,
  origin: { source: 'scim' | 'jit'; now: Date; lastSignInAt?: Date },
): Promise<User> {
  const row = await tx
    .insertInto('users')
    .values({
      tenant_id: tenantId,
      ...attributeColumns(attributes),
      lifecycle_state: attributes.active === false ? 'inactive' : 'active',
      inactive_reason: attributes.active === false ? origin.source : null,
      source: origin.source,
      managed_by: origin.source,
      last_sign_in_at: origin.lastSignInAt ?? null,
      created_at: origin.now,
      updated_at: origin.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await insertEmails(tx, tenantId, row.id, attributes.emails ?? []);
  return toUser(row, attributes.emails ?? []);
}

type StateChange = NonNullable<UserChange['state']>;

/** The lifecycle states a use case moves a user into (rules 3, 5 and 6), built in one place. */
export const userState = {
  active: (): StateChange => ({
    lifecycle: 'active',
    inactiveReason: null,
    purgeAfter: null,
    deprovisionedAt: null,
  }),
  /** Deactivated for `reason` (`scim`, `operator`, `dormant`); a dormant user also gets a purge date. */
  inactive: (reason: string, purgeAfter: Date | null = null): StateChange => ({
    lifecycle: 'inactive',
    inactiveReason: reason,
    purgeAfter,
    deprovisionedAt: null,
  }),
  deprovisioned: (now: Date, purgeAfter: Date): StateChange => ({
    lifecycle: 'deprovisioned',
    inactiveReason: 'scim_delete',
    purgeAfter,
    deprovisionedAt: now,
  }),
};

export interface UserChange {
  readonly attributes?: UserAttributes;
  readonly state?: {
    readonly lifecycle: User['state'];
    readonly inactiveReason: string | null;
    readonly purgeAfter: Date | null;
    readonly deprovisionedAt: Date | null;
  };
  readonly managedBy?: 'scim' | 'jit';
  readonly adoptedAt?: Date;
  readonly lastSignInAt?: Date;
}

/** Applies a change to a locked user, bumping its version (the SCIM ETag). */
export async function updateUser(tx: Tx, user: User, change: UserChange, now: Date): Promise<User> {
  const row = await tx
    .updateTable('users')
    .set((eb) => ({
      ...(change.attributes ? attributeColumns(change.attributes) : {}),
      ...(change.state
        ? {
            lifecycle_state: change.state.lifecycle,
            inactive_reason: change.state.inactiveReason,
            purge_after: change.state.purgeAfter,
            deprovisioned_at: change.state.deprovisionedAt,
          }
        : {}),
      ...(change.managedBy ? { managed_by: change.managedBy } : {}),
      ...(change.adoptedAt ? { adopted_at: change.adoptedAt } : {}),
      ...(change.lastSignInAt ? { last_sign_in_at: change.lastSignInAt } : {}),
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', user.id)
    .where('tenant_id', '=', user.tenantId)
    .returningAll()
    .executeTakeFirstOrThrow();
  const emails = change.attributes?.emails;
  if (emails !== undefined) await replaceEmails(tx, user.tenantId, user.id, emails);
  return toUser(row, emails ?? user.emails);
}

async function replaceEmails(
  tx: Tx,
  tenantId: string,
  userId: string,
  emails: readonly UserEmail[],
): Promise<void> {
  await tx.deleteFrom('user_emails').where('user_id', '=', userId).execute();
  await insertEmails(tx, tenantId, userId, emails);
}

async function insertEmails(
  tx: Tx,
  tenantId: string,
  userId: string,
  emails: readonly UserEmail[],
): Promise<void> {
  if (emails.length === 0) return;
  await tx
    .insertInto('user_emails')
    .values(
      emails.map((email, position) => ({
        user_id: userId,
        position,
        tenant_id: tenantId,
        value: email.value,
        value_key: identityKey(email.value),
        type: email.type ?? null,
        is_primary: email.primary === true,
      })),
    )
    .execute();
}

/** Adds each row's emails (one query for all rows) and maps them to domain users. */
export async function withEmails(tx: Db, rows: UserRow[]): Promise<User[]> {
  if (rows.length === 0) return [];
  const emails = await tx
    .selectFrom('user_emails')
    .selectAll()
    .where(
      'user_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('position')
    .execute();
  return rows.map((row) =>
    toUser(
      row,
      emails
        .filter((e) => e.user_id === row.id)
        .map((e) => ({
          value: e.value,
          ...(e.type ? { type: e.type } : {}),
          ...(e.is_primary ? { primary: true } : {}),
        })),
    ),
  );
}

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
