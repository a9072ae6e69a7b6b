// The SCIM door: create, replace and delete a user, each one transaction around the rules.
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransaction, inTransactionRetryingRaces, type Db, type Tx } from '../db/transaction.js';
import {
  conflict,
  CoreError,
  invalid,
  notFound,
  PG_UNIQUE_VIOLATION,
  sqlState,
  violatedConstraint,
} from '../errors.js';
import { isUuid } from '../ids.js';
import { assertStorableUser } from '../input-limits.js';
import { isEntraSoftDeleteRename } from '../reconciliation/identity-key.js';
import { decideScimCreate, decideScimWrite, purgeDate } from '../reconciliation/reconcile.js';
import type { User, UserAttributes } from '../users/user.js';
import {
  insertUser,
  lockUserById,
  lockUsersByUserNameOrExternalId,
  lockUsersByLinkedNameId,
  updateUser,
  userState,
  type UserChange,
} from '../users/user.store.js';
import { endUserSessions } from '../sessions/session.js';
import { purgeLockedUser } from './purge.js';
import { recordUserChange } from './record-change.js';

export type ScimCreateOutcome = 'created' | 'adopted' | 'restored';

const ACTIVE = userState.active();
const INACTIVE_BY_SCIM = userState.inactive('scim');

/** The state change SCIM's `active` asks of a user (undefined: none; `active` absent: unchanged). */
function stateFor(active: boolean | undefined, current: User): UserChange['state'] {
  if (active === false)
    return current.state === 'inactive' && current.inactiveReason === 'scim'
      ? undefined
      : INACTIVE_BY_SCIM;
  if (active === true && current.state !== 'active') return ACTIVE;
  return undefined;
}

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
  const manager = isUuid(managerId)
    ? await tx
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', managerId)
        .where('lifecycle_state', '!=', 'deprovisioned')
        .forShare()
        .executeTakeFirst()
    : undefined;
  if (!manager)
    throw invalid(`manager.value ${managerId} is not a user of this tenant`, {
      field: 'manager',
    });
}

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
    const { byExternalId, byUserName } = await lockUsersByUserNameOrExternalId(
      tx,
      tenantId,
      attributes.userName,
      attributes.externalId,
    );
    const primaryEmail =
      attributes.emails?.find((e) => e.primary)?.value ?? attributes.emails?.[0]?.value;
    const byLinkedNameId =
      byExternalId || byUserName
        ? []
        : await lockUsersByLinkedNameId(tx, tenantId, [
            attributes.userName,
            ...(primaryEmail ? [primaryEmail] : []),
          ]);
    const decision = decideScimCreate({ byExternalId, byUserName, byLinkedNameId }, now);
    switch (decision.kind) {
      case 'reject':
        throw conflict(decision.detail, { conflictingUserId: decision.conflictingUserId });
      case 'create':
      case 'replace_expired': {
        if (decision.kind === 'replace_expired') await purgeLockedUser(tx, decision.user, context);
        const user = await insertUser(tx, tenantId, attributes, { source: 'scim', now });
        await recordUserChange(tx, context, 'user.created', undefined, user, { via: 'scim' });
        return { user, outcome: 'created' };
      }
      case 'adopt': {
        const user = await updateUser(
          tx,
          decision.user,
          // RFC 7643 §4.1.1: a created resource is active unless it says otherwise; SCIM wins.
          {
            attributes,
            managedBy: 'scim',
            adoptedAt: now,
            ...stateChange(attributes.active ?? true, decision.user),
          },
          now,
        );
        if (user.state !== 'active') await endUserSessions(tx, user.tenantId, user.id);
        await recordUserChange(tx, context, 'user.adopted', decision.user, user, {
          matchedBy: decision.matchedBy,
        });
        return { user, outcome: 'adopted' };
      }
      case 'restore': {
        const user = await updateUser(
          tx,
          decision.user,
          {
            attributes,
            managedBy: 'scim',
            state: attributes.active === false ? INACTIVE_BY_SCIM : ACTIVE,
          },
          now,
        );
        await recordUserChange(tx, context, 'user.restored', decision.user, user, {
          matchedBy: decision.matchedBy,
        });
        return { user, outcome: 'restored' };
      }
    }
  });
}

const stateChange = (active: boolean | undefined, current: User): Pick<UserChange, 'state'> => {
  const state = stateFor(active, current);
  return state ? { state } : {};
};

/** Optional preconditions of a SCIM write (RFC 7644 §3.14). */
export interface WritePreconditions {
  /** The version the caller last saw (`If-Match`); another version is `PreconditionFailed`. */
  readonly ifMatchVersion?: number;
}

/** RFC 7644 §3.14: a write that names a version other than the locked row's fails with 412. */
export function assertVersion(
  kind: 'user' | 'group',
  currentVersion: number,
  preconditions: WritePreconditions,
): void {
  const expected = preconditions.ifMatchVersion;
  if (expected !== undefined && expected !== currentVersion)
    throw new CoreError('PreconditionFailed', `the ${kind} changed since version ${expected}`, {
      details: { currentVersion },
    });
}

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
  return writeUserFromScim(db, tenantId, id, () => attributes, context, clock, preconditions);
}

/**
 * A SCIM PATCH /Users/{id}: `patch` turns the current user into its new attributes (the SCIM
 * adapter applies the PatchOp there). It runs on the locked row, so concurrent patches never
 * lose each other's changes; the rules are those of {@link replaceUserFromScim}. A patch that
 * returns undefined changed nothing: the user is returned as it is, nothing written.
 */
export function patchUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  patch: (current: User) => Promise<UserAttributes | undefined> | UserAttributes | undefined,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<User> {
  return writeUserFromScim(db, tenantId, id, patch, context, clock, preconditions);
}

async function writeUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  attributesOf: (current: User) => Promise<UserAttributes | undefined> | UserAttributes | undefined,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions,
): Promise<User> {
  try {
    return await inTransaction(db, async (tx) => {
      const now = clock.now();
      const existing = isUuid(id) ? await lockUserById(tx, tenantId, id) : undefined;
      const decision = decideScimWrite(existing);
      if (decision.kind === 'not_found' || !existing) throw notFound(`user ${id} does not exist`);
      assertVersion('user', existing.version, preconditions);
      const attributes = await attributesOf(existing);
      if (attributes === undefined) return existing;
      assertUserName(attributes);
      await assertManager(tx, tenantId, attributes);
      const user = await updateUser(
        tx,
        existing,
        {
          attributes,
          ...stateChange(attributes.active, existing),
          ...(decision.adopt ? { managedBy: 'scim' as const, adoptedAt: now } : {}),
        },
        now,
      );
      const deactivated = existing.state === 'active' && user.state !== 'active';
      if (deactivated) await endUserSessions(tx, user.tenantId, user.id);
      const action = decision.adopt
        ? 'user.adopted'
        : deactivated
          ? 'user.deactivated'
          : existing.state !== 'active' && user.state === 'active'
            ? 'user.reactivated'
            : 'user.replaced';
      // Entra's soft delete renames userName to <objectId><UPN>: the same person, noted as such.
      const softDelete = isEntraSoftDeleteRename(existing.userName, user.userName)
        ? { entraSoftDelete: true }
        : {};
      await recordUserChange(tx, context, action, existing, user, softDelete);
      return user;
    });
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
export async function deleteUserFromScim(
  db: Db,
  tenantId: string,
  id: string,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions = {},
): Promise<User> {
  return inTransaction(db, async (tx) => {
    const now = clock.now();
    const existing = isUuid(id) ? await lockUserById(tx, tenantId, id) : undefined;
    if (decideScimWrite(existing).kind === 'not_found' || !existing)
      throw notFound(`user ${id} does not exist`);
    assertVersion('user', existing.version, preconditions);
    const graceDays = await tenantGracePeriod(tx, tenantId);
    const user = await updateUser(
      tx,
      existing,
      {
        state: userState.deprovisioned(now, purgeDate(now, graceDays)),
      },
      now,
    );
    const sessionsEnded = await endUserSessions(tx, user.tenantId, user.id);
    await recordUserChange(tx, context, 'user.deprovisioned', existing, user, { sessionsEnded });
    return user;
  });
}

async function tenantGracePeriod(tx: Tx, tenantId: string): Promise<number> {
  const tenant = await tx
    .selectFrom('tenants')
    .select('grace_period_days')
    .where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return tenant.grace_period_days;
}
