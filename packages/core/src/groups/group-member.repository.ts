// The `group_members` table: every query on it, tenant-scoped, inside the use case's transaction.
// Members are rows, changed in proportion to the change (a group may have 100k members).
import type { Tx } from '../db/transaction.js';
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

/** Adds users and groups (ids already checked) to a group; existing memberships are kept. */
export async function insertMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  members: { readonly users: readonly string[]; readonly groups: readonly string[] },
): Promise<number> {
  const rows = [
    ...members.users.map((id) => ({ group_id: groupId, tenant_id: tenantId, member_user_id: id })),
    ...members.groups.map((id) => ({ group_id: groupId, tenant_id: tenantId, member_group_id: id })),
  ];
  let added = 0;
  for (const chunk of chunksOf(rows)) {
    const result = await tx
      .insertInto('group_members')
      .values(chunk)
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return added;
}

/** Removes these members (user or group ids) from a group; an id that is no member is ignored. */
export async function deleteMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  ids: readonly string[],
): Promise<number> {
  let removed = 0;
  for (const chunk of chunksOf(ids.filter(isUuid))) {
    const result = await tx
      .deleteFrom('group_members')
      .where('tenant_id', '=', tenantId)
      .where('group_id', '=', groupId)
      .where('member_id', 'in', chunk)
      .executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return removed;
}

/** Removes every member of a group. */
export async function deleteAllMembers(tx: Tx, tenantId: string, groupId: string): Promise<number> {
  const result = await tx
    .deleteFrom('group_members')
    .where('tenant_id', '=', tenantId)
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
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

/** Adds a user to these groups; a membership already there is kept. */
export async function joinGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  groupIds: readonly string[],
): Promise<number> {
  let joined = 0;
  for (const chunk of chunksOf(groupIds)) {
    const result = await tx
      .insertInto('group_members')
      .values(
        chunk.map((groupId) => ({ group_id: groupId, tenant_id: tenantId, member_user_id: userId })),
      )
      .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
      .executeTakeFirst();
    joined += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return joined;
}

/** Takes a user out of these groups, as long as they are still JIT groups (SCIM's are never touched). */
export async function leaveJitGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  groupIds: readonly string[],
): Promise<number> {
  let left = 0;
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
      .executeTakeFirst();
    left += Number(result.numDeletedRows);
  }
  return left;
}
