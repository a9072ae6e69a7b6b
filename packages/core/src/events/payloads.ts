// What an outbox row says, written by the use case that makes the change: the resource after the
// change (its public attributes only: never the stored SCIM representation, never a secret), the
// fields that changed, and a reason where the change has one. `readEvents` (event.ts) turns these
// rows into event bodies; docs/events/ has one JSON schema per event type.
import type { Change } from '../changes/outbox.js';
import type { Group } from '../groups/group.js';
import type { MemberRef } from '../groups/group-member.repository.js';
import type { User, UserEmail } from '../users/user.js';

/** A user as events show it. */
export interface EventUser {
  readonly id: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly emails: readonly UserEmail[];
  readonly active: boolean;
  readonly state: User['state'];
  readonly source: User['source'];
  readonly managedBy: User['managedBy'];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** A group as events show it (never its members: a group may have 100k). */
export interface EventGroup {
  readonly id: string;
  readonly displayName: string;
  readonly externalId: string | null;
  readonly managedBy: Group['managedBy'];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** A field's value before and after a change (null where it had none, or the resource was new). */
export type ChangedFields = Record<string, { before: unknown; after: unknown }>;

/** The public attributes of a user, in the order the schema lists them. */
export function eventUser(user: User): EventUser {
  return {
    id: user.id,
    userName: user.userName,
    externalId: user.externalId,
    displayName: user.displayName,
    givenName: user.givenName,
    familyName: user.familyName,
    // As storage reads them back: a type when there is one, `primary` only when true.
    emails: user.emails.map((email) => ({
      value: email.value,
      ...(email.type ? { type: email.type } : {}),
      ...(email.primary ? { primary: true } : {}),
    })),
    active: user.active,
    state: user.state,
    source: user.source,
    managedBy: user.managedBy,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    version: user.version,
  };
}

/** The public attributes of a group. */
export function eventGroup(group: Group): EventGroup {
  return {
    id: group.id,
    displayName: group.displayName,
    externalId: group.externalId,
    managedBy: group.managedBy,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
    version: group.version,
  };
}

/** The fields an app keeps that `changed` reports (bookkeeping such as version is left out). */
const USER_CHANGED_FIELDS = [
  'userName',
  'externalId',
  'displayName',
  'givenName',
  'familyName',
  'emails',
  'active',
  'state',
  'managedBy',
] as const satisfies readonly (keyof EventUser)[];

const GROUP_CHANGED_FIELDS = [
  'displayName',
  'externalId',
  'managedBy',
] as const satisfies readonly (keyof EventGroup)[];

function changedFields<T>(
  fields: readonly (keyof T)[],
  before: T | undefined,
  after: T,
): ChangedFields {
  const changed: ChangedFields = {};
  for (const field of fields) {
    const was = before?.[field] ?? null;
    const now = after[field] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(now))
      changed[String(field)] = { before: was, after: now };
  }
  return changed;
}

/** Outbox actions whose events say why: the user's inactive reason after the change. */
const ACTIONS_WITH_REASON = new Set(['user.deactivated', 'user.deprovisioned']);

/**
 * The outbox payload of a user change: the user after it, what changed, the reason where the
 * action has one (`scim`, `operator`, `dormant`; `scim_delete` for a deprovisioning), and the
 * hint fields the change feed has always carried (state, managedBy, version).
 */
export function userChangePayload(
  action: string,
  before: User | undefined,
  after: User,
): Record<string, unknown> {
  const user = eventUser(after);
  const reason = ACTIONS_WITH_REASON.has(action) ? after.inactiveReason : null;
  return {
    state: after.state,
    managedBy: after.managedBy,
    version: after.version,
    user,
    changed: changedFields(USER_CHANGED_FIELDS, before && eventUser(before), user),
    ...(reason !== null ? { reason } : {}),
  };
}

/**
 * The outbox kind of a user change: a sign-in that refreshed nothing an app keeps is a plain
 * sign-in (`user.signed_in`, no event), so a just-in-time user's every sign-in is not announced
 * as a `user.updated` with nothing in it.
 */
export function userChangeKind(action: string, payload: Record<string, unknown>): string {
  const changed = payload.changed;
  const nothingChanged =
    changed !== null && typeof changed === 'object' && Object.keys(changed).length === 0;
  return action === 'user.refreshed_by_sign_in' && nothingChanged ? 'user.signed_in' : action;
}

/** The outbox payload of a purge: the user is gone, only its id is left. */
export const userPurgedPayload = (userId: string): Record<string, unknown> => ({
  user: { id: userId },
});

/**
 * The outbox payload of a group created or updated: the group after the change, what changed,
 * and the version hint of the change feed.
 */
export function groupChangePayload(
  before: Group | undefined,
  after: Group,
): Record<string, unknown> {
  const group = eventGroup(after);
  return {
    version: after.version,
    group,
    changed: changedFields(GROUP_CHANGED_FIELDS, before && eventGroup(before), group),
  };
}

/** The outbox payload of a group deletion: the group as it was. */
export const groupDeletedPayload = (group: Group): Record<string, unknown> => ({
  version: group.version,
  group: eventGroup(group),
});

/** Whether a group write changed an attribute an app keeps (else it makes no group.updated). */
export function groupAttributesChanged(before: Group, after: Group): boolean {
  return (
    Object.keys(changedFields(GROUP_CHANGED_FIELDS, eventGroup(before), eventGroup(after))).length >
    0
  );
}

/**
 * Most members one `group.members_added` / `group.members_removed` event lists: a larger change
 * (a PUT replacing the members of a big group) is split into several consecutive events, so a
 * body stays under about 60 KB (a member is about 55 bytes of JSON).
 */
export const MAX_MEMBERS_PER_EVENT = 1_000;

/**
 * The outbox rows of a membership delta: the members really added (or removed), at most
 * {@link MAX_MEMBERS_PER_EVENT} a row; none when the delta is empty.
 */
export function memberChanges(
  kind: 'group.members_added' | 'group.members_removed',
  group: Pick<Group, 'id'> & { readonly version?: number },
  members: readonly MemberRef[],
): Change[] {
  const changes: Change[] = [];
  for (let start = 0; start < members.length; start += MAX_MEMBERS_PER_EVENT)
    changes.push({
      kind,
      entityType: 'group',
      entityId: group.id,
      payload: {
        ...(group.version !== undefined ? { version: group.version } : {}),
        group: { id: group.id },
        members: members.slice(start, start + MAX_MEMBERS_PER_EVENT),
      },
    });
  return changes;
}

/** The outbox rows of sessions that ended: one each, in the order given. */
export function sessionEndedChanges(
  sessions: readonly { readonly id: string; readonly userId: string }[],
  reason: string,
): Change[] {
  return sessions.map((session) => ({
    kind: 'session.ended',
    entityType: 'session',
    entityId: session.id,
    payload: { session: { id: session.id }, user: { id: session.userId }, reason },
  }));
}
