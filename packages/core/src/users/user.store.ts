// The users table (with user_emails) inside a use case's transaction: the rows a decision is made
// on, locked until it commits (rule 8), and every write. Plain reads outside a transaction are in
// user.repository.ts; rows <-> the domain User in user.mapper.ts.
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../db/database.js';
import type { Db, Tx } from '../db/transaction.js';
import { isUuid } from '../ids.js';
import { identityKey } from '../reconciliation/identity-key.js';
import type { User, UserAttributes, UserEmail, UserStateChange } from './user.js';
import { toUser } from './user.mapper.js';
import { withEmails } from './user.repository.js';

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

/**
 * The users whose ids a subquery of another table selects (its column `user_id`), locked FOR
 * UPDATE until the transaction ends: one statement, however the ids are found.
 */
export async function lockUsersSelectedBy<TB extends keyof Database>(
  tx: Tx,
  tenantId: string,
  userIds: SelectQueryBuilder<Database, TB, { user_id: string }>,
): Promise<User[]> {
  return lockUsers(tx, tenantId, (q) => q.where('users.id', 'in', userIds));
}

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

/** Inserts a new user in the state its door decided (reconcile.ts `stateOnCreate`). */
export async function insertUser(
  tx: Tx,
  tenantId: string,
  attributes: UserAttributes,
  origin: { source: 'scim' | 'jit'; state: UserStateChange; now: Date; lastSignInAt?: Date },
): Promise<User> {
  const row = await tx
    .insertInto('users')
    .values({
      tenant_id: tenantId,
      ...attributeColumns(attributes),
      ...stateColumns(origin.state),
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

const stateColumns = (state: UserStateChange) => ({
  lifecycle_state: state.lifecycle,
  inactive_reason: state.inactiveReason,
  purge_after: state.purgeAfter,
  deprovisioned_at: state.deprovisionedAt,
});

export interface UserChange {
  readonly attributes?: UserAttributes;
  readonly state?: UserStateChange | undefined;
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
      ...(change.state ? stateColumns(change.state) : {}),
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

/** Removes a locked user for good; its links, sessions, emails and memberships go with it (foreign keys). */
export async function deleteUser(tx: Tx, user: Pick<User, 'id' | 'tenantId'>): Promise<void> {
  await tx
    .deleteFrom('users')
    .where('id', '=', user.id)
    .where('tenant_id', '=', user.tenantId)
    .execute();
}

/**
 * The ids among `ids` that are users of the tenant and not deprovisioned (a manager, a group
 * member), held FOR SHARE until the transaction commits so that none is deprovisioned or purged
 * in between.
 */
export async function shareLockLiveUserIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<string[]> {
  const uuids = ids.filter(isUuid);
  if (uuids.length === 0) return [];
  const rows = await tx
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', uuids)
    .where('lifecycle_state', '!=', 'deprovisioned')
    .forShare()
    .execute();
  return rows.map((r) => r.id);
}

/**
 * `isPurgeDue` (reconcile.ts) as SQL, for the purge job's bulk selection: not active, and a purge
 * date that has passed (a null purge date never compares). The same predicate; a test holds them
 * together.
 */
const purgeDue = (query: PurgeScope, now: Date, tenantId: string | undefined) => {
  const due = query.where('purge_after', '<=', now).where('lifecycle_state', '!=', 'active');
  return tenantId ? due.where('tenant_id', '=', tenantId) : due;
};
type PurgeScope = ReturnType<typeof usersOf>;
const usersOf = (db: Db) => db.selectFrom('users');

/** How many users are due for purge (in one tenant, or in all). */
export async function countUsersDueForPurge(
  db: Db,
  now: Date,
  tenantId: string | undefined,
): Promise<number> {
  const row = await purgeDue(usersOf(db), now, tenantId)
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * Up to `limit` users due for purge, oldest purge date first, locked FOR UPDATE SKIP LOCKED: any
 * number of job runners share the work and each user is taken by one of them.
 */
export async function lockUsersDueForPurge(
  tx: Tx,
  now: Date,
  tenantId: string | undefined,
  limit: number,
): Promise<Pick<User, 'id' | 'tenantId'>[]> {
  const rows = await purgeDue(usersOf(tx), now, tenantId)
    .select(['id', 'tenant_id'])
    .orderBy('purge_after')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
}

/**
 * Up to `limit` candidates for cleanup in the tenants that switched it on: `isDormant`
 * (reconcile.ts) as SQL, which the use case re-checks on each locked user. FOR UPDATE SKIP LOCKED:
 * several instances share the work, and a user being signed in right now is left for later.
 */
export async function lockDormantCandidates(
  tx: Tx,
  now: Date,
  tenantId: string | undefined,
  limit: number,
): Promise<
  { id: string; tenantId: string; cleanupAfterDays: number | null; gracePeriodDays: number }[]
> {
  let candidates = tx
    .selectFrom('users')
    .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
    .select([
      'users.id',
      'users.tenant_id',
      'tenants.cleanup_after_days',
      'tenants.grace_period_days',
    ])
    .where('tenants.cleanup_after_days', 'is not', null)
    .where('users.managed_by', '=', 'jit')
    .where('users.lifecycle_state', '=', 'active')
    .where(
      sql<boolean>`coalesce(users.last_sign_in_at, users.created_at) <= ${now}::timestamptz - make_interval(days => tenants.cleanup_after_days)`,
    );
  if (tenantId) candidates = candidates.where('users.tenant_id', '=', tenantId);
  const rows = await candidates
    .orderBy('users.id')
    .limit(limit)
    .forUpdate('users')
    .skipLocked()
    .execute();
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    cleanupAfterDays: r.cleanup_after_days,
    gracePeriodDays: r.grace_period_days,
  }));
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
