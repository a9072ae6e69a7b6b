// The SCIM door: create, replace and delete a user, each one transaction around the rules.
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransactionRetryingRaces, type Db, type Tx } from '../db/transaction.js';
import { conflict, invalid, PG_UNIQUE_VIOLATION, sqlState, violatedConstraint } from '../errors.js';
import { isUuid } from '../ids.js';
import { assertStorableUser } from '../input-limits.js';
import {
  decideScimCreate,
  decideScimWrite,
  endsSessions,
  isEntraSoftDelete,
  linkedNameIdsToSearch,
  scimCreateEvent,
  scimWriteAction,
  stateFor,
  stateOnAdopt,
  stateOnCreate,
  stateOnRestore,
  stateOnScimDelete,
  type ScimCreateOutcome,
} from '../reconciliation/reconcile.js';
import { tenantGracePeriod } from '../tenants/tenant.repository.js';
import type { User, UserAttributes, UserStateChange } from '../users/user.js';
import {
  insertUser,
  lockUserById,
  lockUsersByUserNameOrExternalId,
  shareLockLiveUserIds,
  updateUser,
} from '../users/user.store.js';
import { endUserSessions } from '../sessions/session.js';
import { lockUsersByLinkedSubject } from '../links/link.repository.js';
import { writeLocked, type ScimChange, type WritePreconditions } from './locked-write.js';
import { purgeLockedUser } from './purge.js';
import { recordUserChange } from './record-change.js';

function assertUserName(attributes: UserAttributes): void {
  if (attributes.userName.trim() === '')
    throw invalid('userName must not be empty', { field: 'userName' });
  assertStorableUser(attributes);
}

/**
 * A manager must be a user of the same tenant, not deprovisioned (RFC 7643 §4.3: the `value` is
 * the manager's id). The row is held FOR SHARE until the write commits, so it cannot be
 * deprovisioned in between.
 */
async function assertManager(tx: Tx, tenantId: string, attributes: UserAttributes): Promise<void> {
  const managerId = attributes.managerId;
  if (managerId === undefined || managerId === null) return;
  const [manager] = await shareLockLiveUserIds(tx, tenantId, [managerId]);
  if (!manager)
    throw invalid(`manager.value ${managerId} is not a user of this tenant`, {
      field: 'manager',
    });
}

const stateChange = (state: UserStateChange | undefined) => (state ? { state } : {});

/**
 * A SCIM POST /Users (rules 1 and 5): create, adopt a matching JIT user, or restore
 * a deprovisioned one within its grace period; a SCIM-managed duplicate is a `Conflict`.
 *
 * @example
 * const { user, outcome } = await createUserFromScim(db, tenant.id, { userName: 'ann@example.com' }, ctx, clock);
 * // outcome: 'created' | 'adopted' | 'restored'; answer 201 with user.id either way
 */
export async function createUserFromScim(
  db: Db,
  tenantId: string,
  attributes: UserAttributes,
  context: ChangeContext,
  clock: Clock,
): Promise<{ user: User; outcome: ScimCreateOutcome }> {
  assertUserName(attributes);
  return inTransactionRetryingRaces(db, async (tx) => {
    const now = clock.now();
    await assertManager(tx, tenantId, attributes);
    const found = await lockUsersByUserNameOrExternalId(
      tx,
      tenantId,
      attributes.userName,
      attributes.externalId,
    );
    const byLinkedNameId = await lockUsersByLinkedSubject(
      tx,
      tenantId,
      linkedNameIdsToSearch(attributes, found),
    );
    const decision = decideScimCreate({ ...found, byLinkedNameId }, now);
    if (decision.kind === 'reject')
      throw conflict(decision.detail, { conflictingUserId: decision.conflictingUserId });
    const { action, outcome } = scimCreateEvent(decision.kind);
    switch (decision.kind) {
      case 'create':
      case 'replace_expired': {
        if (decision.kind === 'replace_expired') await purgeLockedUser(tx, decision.user, context);
        const user = await insertUser(tx, tenantId, attributes, {
          source: 'scim',
          state: stateOnCreate(attributes.active, 'scim'),
          now,
        });
        await recordUserChange(tx, context, action, undefined, user, { via: 'scim' });
        return { user, outcome };
      }
      case 'adopt':
      case 'restore': {
        const state =
          decision.kind === 'adopt'
            ? stateOnAdopt(attributes.active, decision.user)
            : stateOnRestore(attributes.active);
        const adoption = decision.kind === 'adopt' ? { adoptedAt: now } : {};
        const user = await updateUser(
          tx,
          decision.user,
          { attributes, managedBy: 'scim', ...adoption, ...stateChange(state) },
          now,
        );
        if (decision.kind === 'adopt' && endsSessions(decision.user, user))
          await endUserSessions(tx, user.tenantId, user.id);
        await recordUserChange(tx, context, action, decision.user, user, {
          matchedBy: decision.matchedBy,
        });
        return { user, outcome };
      }
    }
  });
}

/** The user a PUT, PATCH or DELETE of `id` writes, locked; a deprovisioned user is not there (rule 5). */
const scimWritable = (tenantId: string, id: string) => ({
  kind: 'user' as const,
  id,
  lock: async (tx: Tx) => {
    const existing = isUuid(id) ? await lockUserById(tx, tenantId, id) : undefined;
    return decideScimWrite(existing).kind === 'not_found' ? undefined : existing;
  },
});

/**
 * A SCIM PUT /Users/{id}: SCIM's attributes replace the user's. The first SCIM write to a JIT
 * user adopts it (rule 1); `active:false` deactivates and ends its sessions at once (rules 3, 4).
 */
export function replaceUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  attributes: UserAttributes,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<User> {
  return patchUserFromScim(db, tenantId, id, () => attributes, context, clock, preconditions);
}

/**
 * A SCIM PATCH (or PUT) of /Users/{id}: `change` turns the current, locked user into its new
 * attributes (the SCIM adapter applies the PatchOp there), so concurrent patches never lose each
 * other's changes; the rules are those of {@link replaceUserFromScim}. A change that returns
 * undefined changed nothing: the user is returned as it is, nothing written.
 */
export async function patchUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  change: ScimChange<User, UserAttributes>,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<User> {
  try {
    return await writeLocked(
      db,
      scimWritable(tenantId, id),
      preconditions,
      async (tx, existing) => {
        const now = clock.now();
        const attributes = await change(existing);
        if (attributes === undefined) return existing;
        assertUserName(attributes);
        await assertManager(tx, tenantId, attributes);
        const decision = decideScimWrite(existing);
        const adopt = decision.kind === 'update' && decision.adopt;
        const user = await updateUser(
          tx,
          existing,
          {
            attributes,
            ...stateChange(stateFor(attributes.active, existing)),
            ...(adopt ? { managedBy: 'scim' as const, adoptedAt: now } : {}),
          },
          now,
        );
        if (endsSessions(existing, user)) await endUserSessions(tx, user.tenantId, user.id);
        await recordUserChange(
          tx,
          context,
          scimWriteAction(existing, user, adopt),
          existing,
          user,
          isEntraSoftDelete(existing, user) ? { entraSoftDelete: true } : {},
        );
        return user;
      },
    );
  } catch (error) {
    if (sqlState(error) === PG_UNIQUE_VIOLATION) {
      const field = violatedConstraint(error)?.includes('external_id') ? 'externalId' : 'userName';
      throw conflict(`another user already has this ${field}`, { field });
    }
    throw error;
  }
}

/**
 * A SCIM DELETE /Users/{id} (rule 5): the user is deprovisioned (404 for SCIM from now on, no
 * sign-in, sessions ended in this transaction) and purged after the tenant's grace period.
 */
export function deleteUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<User> {
  return writeLocked(db, scimWritable(tenantId, id), preconditions, async (tx, existing) => {
    const now = clock.now();
    const graceDays = await tenantGracePeriod(tx, tenantId);
    const user = await updateUser(tx, existing, { state: stateOnScimDelete(now, graceDays) }, now);
    const sessionsEnded = await endUserSessions(tx, user.tenantId, user.id);
    await recordUserChange(tx, context, 'user.deprovisioned', existing, user, { sessionsEnded });
    return user;
  });
}
