// Groups through SCIM (create, replace, patch with member deltas, delete). Each is one
// transaction with its audit and outbox rows (rule 7); writes to an existing group go through
// the one concurrency strategy of SCIM writes (locked-write.ts).
import { recordAudit } from '../audit/audit.repository.js';
import { appendChanges, type Change } from '../changes/outbox.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { conflict, invalid, PG_UNIQUE_VIOLATION, sqlState } from '../errors.js';
import { isUuid } from '../ids.js';
import { assertStorableGroup } from '../input-limits.js';
import type { Group, GroupAttributes, MemberChange } from '../groups/group.js';
import {
  groupAttributesChanged,
  groupChangePayload,
  groupDeletedPayload,
  memberChanges,
} from '../events/payloads.js';
import {
  chunksOf,
  deleteMembers,
  deleteMembersExcept,
  insertMembers,
  type MemberRef,
} from '../groups/group-member.repository.js';
import {
  deleteGroup,
  insertScimGroup,
  lockGroupById,
  shareLockGroupIds,
  updateScimGroup,
} from '../groups/group.repository.js';
import { shareLockLiveUserIds } from '../users/user.store.js';
import { groupManagerAfterScimWrite } from '../reconciliation/reconcile.js';
import { writeLocked, type ScimChange, type WritePreconditions } from './locked-write.js';

export const MAX_MEMBERS_PER_CHANGE = 10_000;

/** What a SCIM write changes in a group: its attributes (when given) and its members, as a delta. */
export interface GroupChange {
  readonly attributes?: GroupAttributes;
  readonly members?: MemberChange;
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
  const users: string[] = [];
  const groups: string[] = [];
  for (const ids of chunksOf(unique)) {
    users.push(...(await shareLockLiveUserIds(tx, tenantId, ids)));
    groups.push(...(await shareLockGroupIds(tx, tenantId, ids)));
  }
  const known = new Set([...users, ...groups]);
  const missing = unique.filter((id) => !known.has(id));
  if (missing.length > 0)
    throw invalid(`members do not exist: ${missing.slice(0, 5).join(', ')}`, { field: 'members' });
  if (groups.includes(groupId))
    throw invalid('a group cannot be a member of itself', { field: 'members' });
  return { users, groups };
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

/** The members a write really added and removed (a delta: one already there is not "added"). */
interface MemberDelta {
  readonly added: readonly MemberRef[];
  readonly removed: readonly MemberRef[];
}

const NO_MEMBER_CHANGE: MemberDelta = { added: [], removed: [] };

/**
 * Applies a member change as a delta. A replacement (SCIM PUT) removes only the members it does
 * not name and adds only those missing, so replacing 10k members by the same 10k changes (and
 * announces) nothing. An id both removed and added ends up a member.
 */
async function applyMemberChange(tx: Tx, group: Group, change: MemberChange): Promise<MemberDelta> {
  const { tenantId, id } = group;
  if (change.replaceAll !== undefined) {
    // refuse unknown members before deleting anything
    const wanted = await resolveMembers(tx, tenantId, id, [
      ...change.replaceAll,
      ...(change.add ?? []),
    ]);
    const removed = await deleteMembersExcept(tx, tenantId, id, [
      ...wanted.users,
      ...wanted.groups,
    ]);
    return { removed, added: await insertMembers(tx, tenantId, id, wanted) };
  }
  const adding = new Set(change.add ?? []);
  const removed = change.remove
    ? await deleteMembers(
        tx,
        tenantId,
        id,
        change.remove.filter((member) => !adding.has(member)),
      )
    : [];
  const added = await insertMembers(
    tx,
    tenantId,
    id,
    await resolveMembers(tx, tenantId, id, [...adding]),
  );
  return { added, removed };
}

/**
 * Rule 7 for groups: the audit event, then the outbox rows in one round trip: the group's own
 * change (when `groupChange` is given), then the members removed, then those added.
 */
async function record(
  tx: Tx,
  context: ChangeContext,
  action: string,
  group: Group,
  audit: Record<string, unknown>,
  groupChange: { before: Group | undefined } | undefined,
  members: MemberDelta = NO_MEMBER_CHANGE,
) {
  await recordAudit(tx, group.tenantId, context, {
    action,
    target: { type: 'group', id: group.id },
    changes: audit,
  });
  const changes: Change[] = [
    ...(groupChange
      ? [
          {
            kind: action,
            entityType: 'group' as const,
            entityId: group.id,
            payload:
              action === 'group.deleted'
                ? groupDeletedPayload(group)
                : groupChangePayload(groupChange.before, group),
          },
        ]
      : []),
    ...memberChanges('group.members_removed', group, members.removed),
    ...memberChanges('group.members_added', group, members.added),
  ];
  await appendChanges(tx, group.tenantId, changes);
}

const externalIdConflict = (error: unknown): never => {
  if (sqlState(error) === PG_UNIQUE_VIOLATION)
    throw conflict('a group with this externalId already exists', { field: 'externalId' });
  throw error;
};

/** The group a write of `id` changes, locked until the write commits. */
const lockedGroup = (tenantId: string, id: string) => ({
  kind: 'group' as const,
  id,
  lock: (tx: Tx) => lockGroupById(tx, tenantId, id),
});

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
    const group = await insertScimGroup(tx, tenantId, attributes, clock.now());
    const delta = await applyMemberChange(tx, group, { add: members });
    await record(
      tx,
      context,
      'group.created',
      group,
      { displayName: group.displayName, membersAdded: delta.added.length },
      { before: undefined },
      delta,
    );
    return group;
  }).catch(externalIdConflict);
}

/**
 * A SCIM PUT of a group, or any change already known: new attributes (when given) and a member
 * change applied as a delta, so adding one member to a group of 100k costs one row. A JIT group
 * becomes SCIM-managed.
 */
export function updateGroupFromScim(
  db: Db,
  tenantId: string,
  id: string,
  update: GroupChange & WritePreconditions,
  context: ChangeContext,
  clock: Clock,
): Promise<Group> {
  const { ifMatchVersion, ...change } = update;
  if (change.attributes) assertDisplayName(change.attributes);
  if (change.members) assertMemberChangeSize(change.members);
  return patchGroupFromScim(
    db,
    tenantId,
    id,
    () => change,
    context,
    clock,
    ifMatchVersion !== undefined ? { ifMatchVersion } : {},
  );
}

/**
 * A SCIM PATCH /Groups/{id}: `change` turns the current, locked group into its change (the SCIM
 * adapter applies the PatchOp to its attributes and folds member operations into a delta), so
 * concurrent patches queue on the row and never lose each other's changes. A change that returns
 * undefined writes nothing.
 */
export async function patchGroupFromScim(
  db: Db,
  tenantId: string,
  id: string,
  change: ScimChange<Group, GroupChange>,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<Group> {
  return writeLocked(db, lockedGroup(tenantId, id), preconditions, async (tx, existing) => {
    const update = await change(existing);
    if (update === undefined) return existing;
    if (update.attributes) assertDisplayName(update.attributes);
    if (update.members) assertMemberChangeSize(update.members);
    const { managedBy } = groupManagerAfterScimWrite(existing);
    const group = await updateScimGroup(tx, existing, update.attributes, managedBy, clock.now());
    const members = update.members
      ? await applyMemberChange(tx, group, update.members)
      : NO_MEMBER_CHANGE;
    const renamed =
      existing.displayName !== group.displayName
        ? { displayName: { before: existing.displayName, after: group.displayName } }
        : {};
    // group.updated only when an attribute changed; a member-only PATCH makes membership events.
    await record(
      tx,
      context,
      'group.updated',
      group,
      {
        ...renamed,
        membersAdded: members.added.length,
        membersRemoved: members.removed.length,
      },
      groupAttributesChanged(existing, group) ? { before: existing } : undefined,
      members,
    );
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
  await writeLocked(db, lockedGroup(tenantId, id), preconditions, async (tx, group) => {
    await deleteGroup(tx, group);
    await record(
      tx,
      context,
      'group.deleted',
      group,
      { displayName: group.displayName },
      {
        before: group,
      },
    );
  });
}
