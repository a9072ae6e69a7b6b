// Rule 2, groups: a JIT user's memberships in JIT groups follow the assertion's groups attribute.
import type { Change } from '../changes/outbox.js';
import type { Tx } from '../db/transaction.js';
import { groupChangePayload, memberChanges } from '../events/payloads.js';
import { jitMembershipsOf, joinGroups, leaveJitGroups } from '../groups/group-member.repository.js';
import { findJitGroupsByName, insertJitGroups } from '../groups/group.repository.js';
import { decideJitGroupSync, jitGroupNames } from '../reconciliation/reconcile.js';

/**
 * Rule 2, groups: a JIT user's memberships in JIT groups become exactly the assertion's groups,
 * creating those groups by name as needed (reconcile.ts `decideJitGroupSync` decides). SCIM-managed
 * groups are never touched from here. Runs inside the sign-in's transaction, on a locked user.
 * Returns the outbox rows of what it did, for the caller to append after the user's own row (an
 * app then hears of the user before its memberships).
 */
export async function syncJitGroups(
  tx: Tx,
  tenantId: string,
  userId: string,
  names: readonly string[],
  now: Date,
): Promise<{ joined: number; left: number; changes: Change[] }> {
  const current = await jitMembershipsOf(tx, tenantId, userId);
  const existing = await findJitGroupsByName(tx, tenantId, jitGroupNames(names));
  const sync = decideJitGroupSync(current, existing, names);
  const created = await insertJitGroups(tx, tenantId, sync.create, now);
  // A concurrent sign-in may have created some of them first: their ids are read after the insert.
  const joining = await findJitGroupsByName(tx, tenantId, sync.join);
  const left = await leaveJitGroups(tx, tenantId, userId, sync.leave);
  const joined = await joinGroups(
    tx,
    tenantId,
    userId,
    joining.map((g) => g.id),
  );
  const member = [{ type: 'user' as const, id: userId }];
  const changes: Change[] = [
    ...created.map((group) => ({
      kind: 'group.created',
      entityType: 'group' as const,
      entityId: group.id,
      payload: groupChangePayload(undefined, group),
    })),
    ...left.flatMap((id) => memberChanges('group.members_removed', { id }, member)),
    ...joined.flatMap((id) => memberChanges('group.members_added', { id }, member)),
  ];
  return { joined: joined.length, left: left.length, changes };
}
