import { sql } from 'kysely';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import type { UserSummary } from './user.js';

export interface UserPage {
  readonly users: UserSummary[];
  /** Pass back as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

export const MAX_USER_PAGE_SIZE = 1000;

/** A tenant's users in creation order, a page at a time (keyset paging: stable and cheap at any depth). */
export async function listUsers(db: Db, tenantId: string, options: { limit?: number; after?: string } = {}): Promise<UserPage> {
  const limit = Math.max(1, Math.min(options.limit ?? 100, MAX_USER_PAGE_SIZE));
  let query = db
    .selectFrom('users')
    .select([
      'id', 'tenant_id', 'user_name', 'external_id', 'display_name', 'lifecycle_state', 'source', 'managed_by',
      'last_sign_in_at', 'purge_after', 'created_at', 'version',
    ])
    .where('tenant_id', '=', tenantId);
  const cursor = options.after ? decodeCursor(options.after) : undefined;
  if (cursor) query = query.where(sql<boolean>`(created_at, id) > (${cursor.createdAt}, ${cursor.id})`);
  const rows = await query.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit).map(
    (row): UserSummary => ({
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
    }),
  );
  const last = page.at(-1);
  return rows.length > limit && last ? { users: page, next: encodeCursor(last.createdAt, last.id) } : { users: page };
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw invalid('the page cursor is not one this server issued', { field: 'after' });
  }
  return { createdAt, id };
}
