// Members of a group a page at a time, and the groups of a page of users, each in one query.
import { sql } from 'kysely';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { isUuid } from '../ids.js';

/** The most members one call returns. */
export const MAX_MEMBER_PAGE_SIZE = 10_000;

export interface GroupMember {
  readonly value: string;
  readonly type: 'User' | 'Group';
  /** A user's displayName (else userName), a group's displayName. */
  readonly display: string | null;
}

/**
 * Members of a group in member id order, after `after` (keyset on the primary key, so the cost
 * of a page does not grow with the group). SCIM-deleted (deprovisioned) users are left out.
 * `next` is the `after` of the following page, absent on the last one.
 */
export async function listGroupMembers(
  db: Db,
  tenantId: string,
  groupId: string,
  options: { after?: string; limit: number },
): Promise<{ members: GroupMember[]; next?: string }> {
  const limit = Math.min(Math.max(Math.trunc(options.limit), 1), MAX_MEMBER_PAGE_SIZE);
  if (options.after !== undefined && !isUuid(options.after))
    throw invalid('after must be a member id', { field: 'after' });
  if (!isUuid(groupId)) return { members: [] };
  const { rows } = await sql<{
    member_id: string;
    member_user_id: string | null;
    display: string | null;
  }>`select gm.member_id, gm.member_user_id,
        coalesce(u.display_name, u.user_name, g.display_name) as display
      from group_members as gm
        left join users as u on u.id = gm.member_user_id
        left join groups as g on g.id = gm.member_group_id
      where gm.tenant_id = ${tenantId} and gm.group_id = ${groupId}
        and (gm.member_user_id is null or u.lifecycle_state <> 'deprovisioned')
        ${options.after !== undefined ? sql`and gm.member_id > ${options.after}::uuid` : sql``}
      order by gm.member_id
      limit ${limit + 1}`.execute(db);
  const page = rows.slice(0, limit);
  const members = page.map((r) => ({
    value: r.member_id,
    type: r.member_user_id === null ? ('Group' as const) : ('User' as const),
    display: r.display,
  }));
  const last = page.at(-1);
  return rows.length > limit && last ? { members, next: last.member_id } : { members };
}

/** The groups each user is a direct member of (SCIM's readOnly User `groups`), in one query. */
export async function groupsOfUsers(
  db: Db,
  tenantId: string,
  userIds: readonly string[],
): Promise<Map<string, { value: string; display: string }[]>> {
  const ids = [...new Set(userIds.filter(isUuid))];
  const result = new Map<string, { value: string; display: string }[]>(
    userIds.map((id) => [id, []]),
  );
  if (ids.length === 0) return result;
  const rows = await db
    .selectFrom('group_members as gm')
    .innerJoin('groups as g', 'g.id', 'gm.group_id')
    .select(['gm.member_id', 'g.id', 'g.display_name'])
    .where('gm.tenant_id', '=', tenantId)
    .where('gm.member_id', 'in', ids)
    .orderBy('g.display_name')
    .orderBy('g.id')
    .execute();
  for (const row of rows) {
    result.get(row.member_id)?.push({ value: row.id, display: row.display_name });
  }
  return result;
}
