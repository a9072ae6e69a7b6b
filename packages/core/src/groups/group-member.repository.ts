// The `group_members` table: every query on it, tenant-scoped. Members are rows, read a page at a
// time and changed in proportion to the change (a group may have 100k members); writes take the
// use case's transaction.
import { sql } from 'kysely';
import type { Db, Tx } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { isUuid } from '../ids.js';

/**
 * Rows per statement when members are written or looked up: a large group's change stays far
 * below PostgreSQL's 65,535 bind parameters per statement.
 */
const MEMBER_ROWS_PER_STATEMENT = 1_000;

export function chunksOf<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += MEMBER_ROWS_PER_STATEMENT)
    chunks.push(items.slice(start, start + MEMBER_ROWS_PER_STATEMENT));
  return chunks;
}

/** A membership row's member, as the membership events name it. */
export interface MemberRef {
  readonly type: 'user' | 'group';
  readonly id: string;
}

const memberRef = (row: {
  member_user_id: string | null;
  member_group_id: string | null;
}): MemberRef =>
  row.member_user_id !== null
    ? { type: 'user', id: row.member_user_id }
    : { type: 'group', id: row.member_group_id ?? '' };

/**
 * Adds users and groups (ids already checked) to a group; existing memberships are kept. Returns
 * the members really added.
 */
export async function insertMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  members: { readonly users: readonly string[]; readonly groups: readonly string[] },
): Promise<MemberRef[]> {
  const rows = [
    ...members.users.map((id) => ({ group_id: groupId, tenant_id: tenantId, member_user_id: id })),
    ...members.groups.map((id) => ({
      group_id: groupId,
      tenant_id: tenantId,
      member_group_id: id,
    })),
  ];
  const added: MemberRef[] = [];
  for (const chunk of chunksOf(rows)) {
    const inserted = await tx
      .insertInto('group_members')
      .values(chunk)
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .returning(['member_user_id', 'member_group_id'])
      .execute();
    added.push(...inserted.map(memberRef));
  }
  return added;
}

/** Removes these members (user or group ids) from a group; returns those that were members. */
export async function deleteMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  ids: readonly string[],
): Promise<MemberRef[]> {
  const removed: MemberRef[] = [];
  for (const chunk of chunksOf(ids.filter(isUuid))) {
    const deleted = await tx
      .deleteFrom('group_members')
      .where('tenant_id', '=', tenantId)
      .where('group_id', '=', groupId)
      .where('member_id', 'in', chunk)
      .returning(['member_user_id', 'member_group_id'])
      .execute();
    removed.push(...deleted.map(memberRef));
  }
  return removed;
}

/**
 * Removes every member of a group but `keep` (ids already checked, at most
 * MAX_MEMBERS_PER_CHANGE of them: one statement stays under PostgreSQL's bind parameter limit);
 * returns those removed.
 */
export async function deleteMembersExcept(
  tx: Tx,
  tenantId: string,
  groupId: string,
  keep: readonly string[],
): Promise<MemberRef[]> {
  let query = tx
    .deleteFrom('group_members')
    .where('tenant_id', '=', tenantId)
    .where('group_id', '=', groupId);
  if (keep.length > 0) query = query.where('member_id', 'not in', keep);
  const deleted = await query.returning(['member_user_id', 'member_group_id']).execute();
  return deleted.map(memberRef);
}

/** The JIT groups a user is a member of (a locked user's: its memberships cannot change under us). */
export async function jitMembershipsOf(
  tx: Tx,
  tenantId: string,
  userId: string,
): Promise<{ groupId: string; displayName: string }[]> {
  const rows = await tx
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['groups.id', 'groups.display_name'])
    .where('group_members.tenant_id', '=', tenantId)
    .where('group_members.member_user_id', '=', userId)
    .where('groups.managed_by', '=', 'jit')
    .orderBy('groups.id')
    .execute();
  return rows.map((r) => ({ groupId: r.id, displayName: r.display_name }));
}

/** Adds a user to these groups; a membership already there is kept. Returns the groups joined. */
export async function joinGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  groupIds: readonly string[],
): Promise<string[]> {
  const joined: string[] = [];
  for (const chunk of chunksOf(groupIds)) {
    const result = await tx
      .insertInto('group_members')
      .values(
        chunk.map((groupId) => ({
          group_id: groupId,
          tenant_id: tenantId,
          member_user_id: userId,
        })),
      )
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .returning('group_id')
      .execute();
    joined.push(...result.map((row) => row.group_id));
  }
  return joined;
}

/**
 * Takes a user out of these groups, as long as they are still JIT groups (SCIM's are never
 * touched). Returns the groups left.
 */
export async function leaveJitGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  groupIds: readonly string[],
): Promise<string[]> {
  const left: string[] = [];
  for (const chunk of chunksOf(groupIds)) {
    const result = await tx
      .deleteFrom('group_members')
      .where('tenant_id', '=', tenantId)
      .where('member_user_id', '=', userId)
      .where('group_id', 'in', chunk)
      .where(
        'group_id',
        'in',
        tx
          .selectFrom('groups')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('managed_by', '=', 'jit'),
      )
      .returning('group_id')
      .execute();
    left.push(...result.map((row) => row.group_id));
  }
  return left;
}

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
