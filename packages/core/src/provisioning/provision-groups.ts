// Groups through SCIM (create, replace, member deltas, delete) and from an assertion's groups
// attribute for JIT users. Each is one transaction with its audit and outbox rows (rule 7).
import { sql, type Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { appendChange } from '../changes/outbox.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { GroupTable } from '../db/database.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { conflict, invalid, notFound, PG_UNIQUE_VIOLATION, sqlState } from '../errors.js';
import { isUuid } from '../ids.js';
import { assertStorableGroup } from '../input-limits.js';
import type { Group, GroupAttributes, MemberChange } from '../groups/group.js';
import { assertVersion, type WritePreconditions } from './provision-from-scim.js';

export const MAX_MEMBERS_PER_CHANGE = 10_000;

/**
 * Rows per statement when members are written or looked up: a large group's change stays far
 * below PostgreSQL's 65,535 bind parameters per statement.
 */
const MEMBER_ROWS_PER_STATEMENT = 1_000;

function chunksOf<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += MEMBER_ROWS_PER_STATEMENT)
    chunks.push(items.slice(start, start + MEMBER_ROWS_PER_STATEMENT));
  return chunks;
}

/** Maps a groups row to the domain Group (the one place that does). */
export function toGroup(row: Selectable<GroupTable>): Group {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    externalId: row.external_id,
    managedBy: row.managed_by,
    version: row.version,
    scimResource: row.scim_resource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function assertDisplayName(attributes: GroupAttributes): void {
  if (attributes.displayName.trim() === '')
    throw invalid('displayName must not be empty', { field: 'displayName' });
  assertStorableGroup(attributes);
}

/**
 * Sorts member ids into users and groups of the tenant, locking them against a concurrent purge.
 * An id that is neither is `Invalid` (SCIM answers 400 and nothing is written).
 */
async function resolveMembers(tx: Tx, tenantId: string, groupId: string, ids: readonly string[]) {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_MEMBERS_PER_CHANGE) {
    throw invalid(`at most ${MAX_MEMBERS_PER_CHANGE} members per request`, { field: 'members' });
  }
  const malformed = unique.filter((id) => !isUuid(id));
  if (malformed.length > 0)
    throw invalid(`members do not exist: ${malformed.slice(0, 5).join(', ')}`, {
      field: 'members',
    });
  if (unique.length === 0) return { users: [] as string[], groups: [] as string[] };
  const users: string[] = [];
  const groups: string[] = [];
  for (const ids of chunksOf(unique)) {
    const foundUsers = await tx
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .where('lifecycle_state', '!=', 'deprovisioned')
      .forShare()
      .execute();
    users.push(...foundUsers.map((r) => r.id));
    const foundGroups = await tx
      .selectFrom('groups')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .forShare()
      .execute();
    groups.push(...foundGroups.map((r) => r.id));
  }
  const known = new Set([...users, ...groups]);
  const missing = unique.filter((id) => !known.has(id));
  if (missing.length > 0)
    throw invalid(`members do not exist: ${missing.slice(0, 5).join(', ')}`, { field: 'members' });
  if (groups.includes(groupId))
    throw invalid('a group cannot be a member of itself', { field: 'members' });
  return { users, groups };
}

async function addMembers(
  tx: Tx,
  tenantId: string,
  groupId: string,
  ids: readonly string[],
): Promise<number> {
  const { users, groups } = await resolveMembers(tx, tenantId, groupId, ids);
  const rows = [
    ...users.map((id) => ({ group_id: groupId, tenant_id: tenantId, member_user_id: id })),
    ...groups.map((id) => ({ group_id: groupId, tenant_id: tenantId, member_group_id: id })),
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

async function removeMembers(tx: Tx, groupId: string, ids: readonly string[]): Promise<number> {
  let removed = 0;
  for (const chunk of chunksOf(ids.filter(isUuid))) {
    const result = await tx
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('member_id', 'in', chunk)
      .executeTakeFirst();
    removed += Number(result.numDeletedRows);
  }
  return removed;
}

/** Refuses a member change larger than {@link MAX_MEMBERS_PER_CHANGE}, before any lookup. */
function assertMemberChangeSize(change: MemberChange): void {
  const size =
    (change.add?.length ?? 0) + (change.remove?.length ?? 0) + (change.replaceAll?.length ?? 0);
  if (size > MAX_MEMBERS_PER_CHANGE)
    throw invalid(
      `at most ${MAX_MEMBERS_PER_CHANGE} members may be added, removed or replaced per request (the group members limit); this one names ${size}`,
      { field: 'members', limit: MAX_MEMBERS_PER_CHANGE },
    );
}

async function applyMemberChange(tx: Tx, group: Group, change: MemberChange) {
  let removed = 0;
  if (change.replaceAll !== undefined) {
    await resolveMembers(tx, group.tenantId, group.id, change.replaceAll); // refuse before deleting anything
    const removedRows = await tx
      .deleteFrom('group_members')
      .where('group_id', '=', group.id)
      .executeTakeFirst();
    removed += Number(removedRows.numDeletedRows);
  }
  if (change.remove) removed += await removeMembers(tx, group.id, change.remove);
  const added = await addMembers(tx, group.tenantId, group.id, [
    ...(change.replaceAll ?? []),
    ...(change.add ?? []),
  ]);
  return { added, removed };
}

async function record(
  tx: Tx,
  context: ChangeContext,
  action: string,
  group: Group,
  changes: Record<string, unknown>,
) {
  await recordAudit(tx, group.tenantId, context, {
    action,
    target: { type: 'group', id: group.id },
    changes,
  });
  await appendChange(tx, group.tenantId, {
    kind: action,
    entityType: 'group',
    entityId: group.id,
    payload: { version: group.version },
  });
}

const externalIdConflict = (error: unknown): never => {
  if (sqlState(error) === PG_UNIQUE_VIOLATION)
    throw conflict('a group with this externalId already exists', { field: 'externalId' });
  throw error;
};

/** One group of the tenant by id, or undefined (its members are read apart, a page at a time). */
export async function findGroup(db: Db, tenantId: string, id: string): Promise<Group | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db
    .selectFrom('groups')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toGroup(row) : undefined;
}

/** A SCIM POST /Groups, members included. */
export async function createGroupFromScim(
  db: Db,
  tenantId: string,
  attributes: GroupAttributes,
  members: readonly string[],
  context: ChangeContext,
  clock: Clock,
): Promise<Group> {
  assertDisplayName(attributes);
  assertMemberChangeSize({ add: members });
  return inTransaction(db, async (tx) => {
    const now = clock.now();
    const row = await tx
      .insertInto('groups')
      .values({
        tenant_id: tenantId,
        display_name: attributes.displayName,
        external_id: attributes.externalId ?? null,
        managed_by: 'scim',
        scim_resource: { ...(attributes.scimResource ?? {}) },
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const group = toGroup(row);
    const { added } = await applyMemberChange(tx, group, { add: members });
    await record(tx, context, 'group.created', group, {
      displayName: group.displayName,
      membersAdded: added,
    });
    return group;
  }).catch(externalIdConflict);
}

/**
 * A SCIM PUT or PATCH of a group: new attributes (when given) and a member change applied as a
 * delta, so adding one member to a group of 100k costs one row. A JIT group becomes SCIM-managed.
 */
export async function updateGroupFromScim(
  db: Db,
  tenantId: string,
  id: string,
  update: { attributes?: GroupAttributes; members?: MemberChange; ifMatchVersion?: number },
  context: ChangeContext,
  clock: Clock,
): Promise<Group> {
  if (update.attributes) assertDisplayName(update.attributes);
  if (update.members) assertMemberChangeSize(update.members);
  return inTransaction(db, async (tx) => {
    const now = clock.now();
    const existing = isUuid(id)
      ? await tx
          .selectFrom('groups')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .forUpdate()
          .executeTakeFirst()
      : undefined;
    if (!existing) throw notFound(`group ${id} does not exist`);
    assertVersion('group', existing.version, update);
    const row = await tx
      .updateTable('groups')
      .set((eb) => ({
        ...(update.attributes
          ? {
              display_name: update.attributes.displayName,
              ...(update.attributes.externalId !== undefined
                ? { external_id: update.attributes.externalId }
                : {}),
              ...(update.attributes.scimResource !== undefined
                ? { scim_resource: { ...update.attributes.scimResource } }
                : {}),
            }
          : {}),
        managed_by: 'scim' as const,
        version: eb('version', '+', 1),
        updated_at: now,
      }))
      .where('id', '=', existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const group = toGroup(row);
    const members = update.members
      ? await applyMemberChange(tx, group, update.members)
      : { added: 0, removed: 0 };
    const renamed =
      existing.display_name !== group.displayName
        ? { displayName: { before: existing.display_name, after: group.displayName } }
        : {};
    await record(tx, context, 'group.updated', group, {
      ...renamed,
      membersAdded: members.added,
      membersRemoved: members.removed,
    });
    return group;
  }).catch(externalIdConflict);
}

/** A SCIM DELETE /Groups/{id}: the group and its memberships go at once (groups have no grace period). */
export async function deleteGroupFromScim(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  preconditions: WritePreconditions = {},
): Promise<void> {
  await inTransaction(db, async (tx) => {
    const row = isUuid(id)
      ? await tx
          .deleteFrom('groups')
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst()
      : undefined;
    if (!row) throw notFound(`group ${id} does not exist`);
    // Deleted and checked in one statement; a stale version rolls the delete back.
    assertVersion('group', row.version, preconditions);
    await record(tx, context, 'group.deleted', toGroup(row), { displayName: row.display_name });
  });
}

/**
 * Rule 2, groups: a JIT user's memberships in JIT groups become exactly the assertion's groups,
 * creating those groups by name as needed. SCIM-managed groups are never touched from here.
 * Runs inside the sign-in's transaction.
 */
export async function syncJitGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  names: readonly string[],
  now: Date,
): Promise<{ joined: number; left: number }> {
  // One entry per name compared case-insensitively, keeping the first spelling the IdP sent.
  const byKey = new Map<string, string>();
  for (const name of names.map((n) => n.trim()).filter(Boolean)) {
    if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  }
  const wanted = [...byKey.values()];
  if (wanted.length > 0) {
    await tx
      .insertInto('groups')
      .values(
        wanted.map((name) => ({
          tenant_id: tenantId,
          display_name: name,
          managed_by: 'jit' as const,
          created_at: now,
          updated_at: now,
        })),
      )
      // One JIT group per name (index groups_tenant_jit_name): a concurrent sign-in may create it first.
      .onConflict((oc) =>
        oc
          .expression(sql`tenant_id, lower(display_name)`)
          .where(sql<boolean>`managed_by = 'jit'`) // a literal: index inference cannot see through a parameter
          .doNothing(),
      )
      .execute();
  }
  const wantedIds = wanted.length
    ? (
        await tx
          .selectFrom('groups')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('managed_by', '=', 'jit')
          .where((eb) =>
            eb(
              eb.fn('lower', [eb.ref('display_name')]),
              'in',
              wanted.map((name) => name.toLowerCase()),
            ),
          )
          .execute()
      ).map((r) => r.id)
    : [];
  const left = await tx
    .deleteFrom('group_members')
    .where('member_user_id', '=', userId)
    .where(
      'group_id',
      'in',
      tx
        .selectFrom('groups')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('managed_by', '=', 'jit'),
    )
    .$if(wantedIds.length > 0, (q) => q.where('group_id', 'not in', wantedIds))
    .executeTakeFirst();
  const joined = wantedIds.length
    ? await tx
        .insertInto('group_members')
        .values(
          wantedIds.map((groupId) => ({
            group_id: groupId,
            tenant_id: tenantId,
            member_user_id: userId,
          })),
        )
        .onConflict((oc) => oc.columns(['group_id', 'member_id']).doNothing())
        .executeTakeFirst()
    : { numInsertedOrUpdatedRows: 0n };
  return {
    joined: Number(joined.numInsertedOrUpdatedRows ?? 0n),
    left: Number(left.numDeletedRows),
  };
}
