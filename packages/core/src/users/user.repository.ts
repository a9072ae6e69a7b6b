// The users table (with user_emails) read outside a use case's transaction: listings, lookups,
// and the emails of rows read elsewhere. Locked reads and writes are in user.store.ts.
import { sql } from 'kysely';
import type { LifecycleState } from '../db/database.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { clampLimit, isUuid } from '../ids.js';
import { identityKey } from '../reconciliation/identity-key.js';
import type { User, UserSummary } from './user.js';
import { toUser, toUserSummary, USER_SUMMARY_COLUMNS, type UserRow } from './user.mapper.js';

export interface UserPage {
  readonly users: UserSummary[];
  /** Pass back as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

export const MAX_USER_PAGE_SIZE = 1000;

/** A tenant's users in creation order, a page at a time (keyset paging: stable and cheap at any depth). */
export async function listUsers(
  db: Db,
  tenantId: string,
  options: { limit?: number; after?: string } = {},
): Promise<UserPage> {
  const limit = clampLimit(options.limit, 100, MAX_USER_PAGE_SIZE);
  let query = db
    .selectFrom('users')
    .select([
      ...USER_SUMMARY_COLUMNS,
      // The cursor needs created_at to the microsecond; a JS Date keeps only milliseconds.
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
        'created_at_exact',
      ),
    ])
    .where('tenant_id', '=', tenantId);
  const cursor = options.after ? decodeCursor(options.after) : undefined;
  if (cursor)
    query = query.where(
      sql<boolean>`(created_at, id) > (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`,
    );
  const rows = await query
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit).map(toUserSummary);
  const last = rows[limit - 1];
  return rows.length > limit && last
    ? { users: page, next: encodeCursor(last.created_at_exact, last.id) }
    : { users: page };
}

const EXACT_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (rest.length > 0 || !id || !isUuid(id) || !createdAt || !EXACT_INSTANT.test(createdAt)) {
    throw invalid('the page cursor is not one this server issued', { field: 'after' });
  }
  return { createdAt, id };
}

/**
 * One user of the tenant by id, or undefined. A deprovisioned user (SCIM-deleted, waiting for its
 * purge) is not found unless asked for: to SCIM it no longer exists (RFC 7644 §3.6).
 */
export async function findUser(
  db: Db,
  tenantId: string,
  id: string,
  options: { includeDeprovisioned?: boolean } = {},
): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id);
  if (!options.includeDeprovisioned) query = query.where('lifecycle_state', '!=', 'deprovisioned');
  const rows = await query.execute();
  return (await withEmails(db, rows))[0];
}

/** Adds each row's emails (one query for all rows) and maps them to domain users. */
export async function withEmails(db: Db, rows: UserRow[]): Promise<User[]> {
  if (rows.length === 0) return [];
  const emails = await db
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

/** The user of the tenant with this userName (compared as identity keys), deprovisioned included. */
export async function findUserByUserName(
  db: Db,
  tenantId: string,
  userName: string,
): Promise<User | undefined> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('user_name_key', '=', identityKey(userName))
    .execute();
  return (await withEmails(db, rows))[0];
}

/** The users of the tenant with this email (compared as identity keys), oldest first. */
export async function findUsersByEmail(db: Db, tenantId: string, email: string): Promise<User[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where(
      'id',
      'in',
      db
        .selectFrom('user_emails')
        .select('user_id')
        .where('tenant_id', '=', tenantId)
        .where('value_key', '=', identityKey(email)),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return withEmails(db, rows);
}

/** A user's lifecycle state, or undefined when the tenant has no such user. */
export async function lifecycleStateOf(
  db: Db,
  tenantId: string,
  id: string,
): Promise<LifecycleState | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db
    .selectFrom('users')
    .select('lifecycle_state')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.lifecycle_state;
}
