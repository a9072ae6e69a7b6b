// The reconciliation rules (README, "The rules"), in one place, as pure decisions over the candidates a
// use case found (and locked). No I/O here: the use cases in ../provisioning apply the decisions.
import type { UserSource } from '../db/database.js';
import type { Group } from '../groups/group.js';
import { userState, type User, type UserAttributes, type UserStateChange } from '../users/user.js';
import { isEntraSoftDeleteRename } from './identity-key.js';

/** Which key found a person. */
export type MatchKey = 'externalId' | 'userName' | 'samlLink' | 'email';

// ---- rule 1 and 5: a SCIM create ------------------------------------------------------------

export interface ScimCreateCandidates {
  /** The user with the incoming externalId, if any. */
  readonly byExternalId?: User | undefined;
  /** The user with the incoming userName (compared as identity keys), if any. */
  readonly byUserName?: User | undefined;
  /** JIT users whose SAML link NameID equals the incoming userName or primary email. */
  readonly byLinkedNameId?: readonly User[] | undefined;
}

export type ScimCreateDecision =
  | { readonly kind: 'create' }
  | { readonly kind: 'adopt'; readonly user: User; readonly matchedBy: MatchKey }
  | { readonly kind: 'restore'; readonly user: User; readonly matchedBy: MatchKey }
  /** Deprovisioned and past its purge date, not yet purged: purge it now, then create afresh. */
  | { readonly kind: 'replace_expired'; readonly user: User; readonly matchedBy: MatchKey }
  | {
      readonly kind: 'reject';
      readonly reason: 'uniqueness';
      readonly conflictingUserId: string;
      readonly detail: string;
    };

/**
 * rules 1 and 5. A SCIM-managed match is a 409; a JIT match is adopted (same id,
 * links kept, SCIM's attributes win); a deprovisioned match within its grace period is restored.
 */
export function decideScimCreate(candidates: ScimCreateCandidates, now: Date): ScimCreateDecision {
  const { byExternalId, byUserName } = candidates;
  if (byExternalId && byUserName && byExternalId.id !== byUserName.id) {
    return {
      kind: 'reject',
      reason: 'uniqueness',
      conflictingUserId: byUserName.id,
      detail: 'userName is already taken by another user than the one with this externalId',
    };
  }
  const linked = uniqueById(candidates.byLinkedNameId ?? []).filter((u) => u.managedBy === 'jit');
  const found: [User, MatchKey] | undefined = byExternalId
    ? [byExternalId, 'externalId']
    : byUserName
      ? [byUserName, 'userName']
      : linked.length === 1 && linked[0]
        ? [linked[0], 'samlLink']
        : undefined;
  if (!found) return { kind: 'create' };
  const [user, matchedBy] = found;
  if (user.state === 'deprovisioned') {
    return isPurgeDue(user, now)
      ? { kind: 'replace_expired', user, matchedBy }
      : { kind: 'restore', user, matchedBy };
  }
  if (user.managedBy === 'scim') {
    return {
      kind: 'reject',
      reason: 'uniqueness',
      conflictingUserId: user.id,
      detail: `a user with this ${matchedBy} already exists`,
    };
  }
  return { kind: 'adopt', user, matchedBy };
}

// ---- rule 1 (second half): the first SCIM write to a JIT user adopts it ---------------------

export type ScimWriteDecision =
  { readonly kind: 'update'; readonly adopt: boolean } | { readonly kind: 'not_found' };

/** PUT or PATCH of an existing id. A deprovisioned user is gone for SCIM (rule 5: 404). */
export function decideScimWrite(existing: User | undefined): ScimWriteDecision {
  if (!existing || existing.state === 'deprovisioned') return { kind: 'not_found' };
  return { kind: 'update', adopt: existing.managedBy === 'jit' };
}

/**
 * Rule 1, groups: a SCIM write (PUT or PATCH) to a group makes it SCIM-managed; a JIT group (made by
 * sign-ins) is adopted, and sign-ins no longer change its members.
 */
export function groupManagerAfterScimWrite(group: Pick<Group, 'managedBy'>): {
  readonly managedBy: 'scim';
  readonly adopted: boolean;
} {
  return { managedBy: 'scim', adopted: group.managedBy === 'jit' };
}

// ---- rules 1, 3, 4, 5 and 7: what a SCIM write does to a user, and what it records -----------

/**
 * rule 1: the SAML NameIDs whose links a SCIM create looks up (the userName and the primary, else
 * first, email); none once the userName or externalId found someone, who then decides alone.
 */
export function linkedNameIdsToSearch(
  attributes: Pick<UserAttributes, 'userName' | 'emails'>,
  found: Pick<ScimCreateCandidates, 'byExternalId' | 'byUserName'>,
): string[] {
  if (found.byExternalId || found.byUserName) return [];
  const primaryEmail =
    attributes.emails?.find((e) => e.primary)?.value ?? attributes.emails?.[0]?.value;
  return [attributes.userName, ...(primaryEmail ? [primaryEmail] : [])];
}

/** rules 1 and 2: a new user is active unless its door says `active:false` (then inactive for that door). */
export function stateOnCreate(active: boolean | undefined, source: UserSource): UserStateChange {
  return active === false ? userState.inactive(source) : userState.active();
}

/**
 * rule 3: the state change SCIM's `active` asks of a user (undefined: none; `active` absent:
 * unchanged). SCIM's `active:false` deactivates for reason `scim`; `active:true` reactivates.
 */
export function stateFor(
  active: boolean | undefined,
  current: Pick<User, 'state' | 'inactiveReason'>,
): UserStateChange | undefined {
  if (active === false)
    return current.state === 'inactive' && current.inactiveReason === 'scim'
      ? undefined
      : userState.inactive('scim');
  if (active === true && current.state !== 'active') return userState.active();
  return undefined;
}

/**
 * rule 1: the state of a JIT user a SCIM create adopts. RFC 7643 §4.1.1: a created resource is
 * active unless it says otherwise, so `active` absent means active; SCIM wins.
 */
export function stateOnAdopt(
  active: boolean | undefined,
  current: Pick<User, 'state' | 'inactiveReason'>,
): UserStateChange | undefined {
  return stateFor(active ?? true, current);
}

/** rule 5: a user restored by a SCIM create is active again, unless the create says `active:false`. */
export function stateOnRestore(active: boolean | undefined): UserStateChange {
  return active === false ? userState.inactive('scim') : userState.active();
}

/** rule 5: a SCIM DELETE deprovisions, with a purge date after the tenant's grace period. */
export function stateOnScimDelete(now: Date, gracePeriodDays: number): UserStateChange {
  return userState.deprovisioned(now, purgeDate(now, gracePeriodDays));
}

/** rule 4: a write that takes an active user out ends its sessions in the same transaction. */
export function endsSessions(before: Pick<User, 'state'>, after: Pick<User, 'state'>): boolean {
  return before.state === 'active' && after.state !== 'active';
}

export type ScimCreateOutcome = 'created' | 'adopted' | 'restored';

/** rule 7: the event (audit action and outbox kind) a SCIM create records, and its outcome. */
export function scimCreateEvent(kind: Exclude<ScimCreateDecision['kind'], 'reject'>): {
  readonly action: 'user.created' | 'user.adopted' | 'user.restored';
  readonly outcome: ScimCreateOutcome;
} {
  switch (kind) {
    case 'create':
    case 'replace_expired':
      return { action: 'user.created', outcome: 'created' };
    case 'adopt':
      return { action: 'user.adopted', outcome: 'adopted' };
    case 'restore':
      return { action: 'user.restored', outcome: 'restored' };
  }
}

export type ScimWriteAction =
  'user.adopted' | 'user.deactivated' | 'user.reactivated' | 'user.replaced';

/**
 * rules 1, 3 and 7: the event a SCIM PUT or PATCH records. Adopting a JIT user says so whatever
 * else changed; otherwise a change of `active` is a deactivation or a reactivation.
 */
export function scimWriteAction(
  before: Pick<User, 'state'>,
  after: Pick<User, 'state'>,
  adopted: boolean,
): ScimWriteAction {
  if (adopted) return 'user.adopted';
  if (endsSessions(before, after)) return 'user.deactivated';
  if (before.state !== 'active' && after.state === 'active') return 'user.reactivated';
  return 'user.replaced';
}

/**
 * rule 1: Entra's soft delete renames userName to `<objectId><UPN>`: the same person, and the
 * write's audit event notes it.
 */
export function isEntraSoftDelete(
  before: Pick<User, 'userName'>,
  after: Pick<User, 'userName'>,
): boolean {
  return isEntraSoftDeleteRename(before.userName, after.userName);
}

// ---- rules 2 and 3: a SAML sign-in -----------------------------------------------------------

export interface IdentityProviderPolicy {
  readonly jitPolicy: 'create' | 'deny';
  readonly matchBy: 'username' | 'email' | 'both';
}

/** Which candidates a sign-in looks up besides the link (rule 2): as the connection's matchBy allows. */
export interface SignInLookups {
  readonly userName: boolean;
  readonly email: boolean;
}

/** rule 2: the keys a sign-in consults besides the link; the one place matchBy is read. */
export function signInLookups(policy: Pick<IdentityProviderPolicy, 'matchBy'>): SignInLookups {
  return { userName: policy.matchBy !== 'email', email: policy.matchBy !== 'username' };
}

/** rule 2: the asserted userName is the mapped one, else the subject (the SAML NameID). */
export function assertedUserName(subject: string, mappedUserName: string | undefined): string {
  return mappedUserName?.trim() || subject;
}

export interface SignInCandidates {
  /** The user the (IdP, NameID) link points at, if any. */
  readonly linked?: User | undefined;
  /** Users whose userName equals the asserted userName (only consulted when matchBy allows). */
  readonly byUserName?: User | undefined;
  /** Users with the asserted email (only consulted when matchBy allows). */
  readonly byEmail?: readonly User[] | undefined;
}

export type RefusalReason = 'inactive' | 'deprovisioned' | 'not_provisioned' | 'ambiguous_match';

export type SignInDecision =
  | {
      readonly kind: 'sign_in';
      readonly user: User;
      readonly matchedBy: MatchKey;
      /** Write the (IdP, NameID) link (never for a transient NameID). */
      readonly link: boolean;
      /** JIT synchronisation: refresh the user's attributes from the assertion (JIT users only). */
      readonly refresh: boolean;
    }
  | { readonly kind: 'create'; readonly link: boolean }
  | {
      readonly kind: 'refuse';
      readonly reason: RefusalReason;
      readonly user?: User | undefined;
      readonly detail: string;
    };

/**
 * rules 2 and 3: find by link, else match as the IdP allows and link, else the JIT
 * policy. Inactive and deprovisioned users are refused; SCIM-managed users are never refreshed
 * from an assertion.
 */
export function decideSignIn(
  candidates: SignInCandidates,
  policy: IdentityProviderPolicy,
  transientNameId: boolean,
): SignInDecision {
  const link = !transientNameId;
  if (candidates.linked) return admit(candidates.linked, 'samlLink', false);

  const lookups = signInLookups(policy);
  const byUserName = lookups.userName ? candidates.byUserName : undefined;
  const byEmail = lookups.email ? uniqueById(candidates.byEmail ?? []) : [];
  const matches = uniqueById([...(byUserName ? [byUserName] : []), ...byEmail]);
  if (matches.length > 1) {
    return {
      kind: 'refuse',
      reason: 'ambiguous_match',
      detail: `the assertion matches ${matches.length} different users; link the person explicitly`,
    };
  }
  const [match] = matches;
  if (match) return admit(match, byUserName?.id === match.id ? 'userName' : 'email', link);
  if (policy.jitPolicy === 'deny') {
    return {
      kind: 'refuse',
      reason: 'not_provisioned',
      detail: 'no such user, and this IdP does not create users at sign-in',
    };
  }
  return { kind: 'create', link };
}

// ---- rules 2 and 9: the protocol's part of a sign-in (request answered, replay, IdP-initiated) --

/** Whether a connection admits IdP-initiated (unsolicited) sign-in. */
export interface SolicitationPolicy {
  readonly allowUnsolicited: boolean;
}

/** Refusals the protocol facts decide, before the rules are asked. */
export type ProtocolRefusalReason =
  | 'unsolicited'
  | 'replayed'
  | 'unknown_in_response_to'
  | 'request_expired'
  | 'in_response_to_other_browser'
  | 'no_login_cookie';

/**
 * rule 2: whether a response must answer a request started here (`always`) or may also come
 * unasked (`ifPresent`: then a response that claims a request is still held to it).
 */
export function requestAnswerRequirement(policy: SolicitationPolicy): 'always' | 'ifPresent' {
  return policy.allowUnsolicited ? 'ifPresent' : 'always';
}

/** rule 2: an IdP-initiated (unsolicited) sign-in is refused unless the connection allows it. */
export function decideUnsolicited(
  solicited: boolean,
  policy: SolicitationPolicy,
): 'unsolicited' | undefined {
  return solicited || policy.allowUnsolicited ? undefined : 'unsolicited';
}

/** What became of the request a response answers, once looked up for this browser. */
export type AnsweredRequestStatus =
  'pending' | 'unknown' | 'expired' | 'other_browser' | 'no_login_cookie';

/**
 * rule 9: why the request a response answers refuses it, if it does. A request id that is gone
 * (answered already) with an assertion id used before is a replay.
 */
export function decideAnsweredRequest(
  status: AnsweredRequestStatus,
  assertionUsedBefore: boolean,
): ProtocolRefusalReason | undefined {
  switch (status) {
    case 'pending':
      return undefined;
    case 'unknown':
      return assertionUsedBefore ? 'replayed' : 'unknown_in_response_to';
    case 'expired':
      return 'request_expired';
    case 'other_browser':
      return 'in_response_to_other_browser';
    case 'no_login_cookie':
      return 'no_login_cookie';
  }
}

function admit(user: User, matchedBy: MatchKey, link: boolean): SignInDecision {
  if (user.state === 'deprovisioned') {
    return { kind: 'refuse', reason: 'deprovisioned', user, detail: 'the user was deleted' };
  }
  if (user.state === 'inactive') {
    // Rule 3: JIT never reactivates a user (SCIM's active:false, or cleanup's dormant).
    return {
      kind: 'refuse',
      reason: 'inactive',
      user,
      detail: `the user is deactivated (${user.inactiveReason ?? 'inactive'})`,
    };
  }
  return { kind: 'sign_in', user, matchedBy, link, refresh: user.managedBy === 'jit' };
}

/**
 * Rules 2 and 7: what an admitted sign-in records (its audit action), and whether the user's JIT
 * groups follow the assertion (a new or refreshed JIT user; never a SCIM-managed one).
 */
export function signInWrites(decision: Extract<SignInDecision, { kind: 'sign_in' | 'create' }>): {
  readonly action: 'user.created' | 'user.refreshed_by_sign_in' | 'user.signed_in';
  readonly syncJitGroups: boolean;
} {
  if (decision.kind === 'create') return { action: 'user.created', syncJitGroups: true };
  return decision.refresh
    ? { action: 'user.refreshed_by_sign_in', syncJitGroups: true }
    : { action: 'user.signed_in', syncJitGroups: false };
}

// ---- rule 6: cleanup of dormant JIT users ---------------------------------------------------

/** A JIT user never adopted by SCIM, active, and not seen for `afterDays` (rule 6). */
export function isDormant(user: User, afterDays: number, now: Date): boolean {
  if (user.managedBy !== 'jit' || user.state !== 'active') return false;
  const lastSeen = user.lastSignInAt ?? user.createdAt;
  return now.getTime() - lastSeen.getTime() >= afterDays * 86_400_000;
}

/** When a user deprovisioned (or deactivated as dormant) now is purged (rule 5). */
export function purgeDate(now: Date, gracePeriodDays: number): Date {
  return new Date(now.getTime() + gracePeriodDays * 86_400_000);
}

/** rule 6: the state of a dormant JIT user cleanup deactivates: inactive, purged after the grace period. */
export function dormantState(now: Date, gracePeriodDays: number): UserStateChange {
  return userState.inactive('dormant', purgeDate(now, gracePeriodDays));
}

/**
 * rules 5 and 6: a user whose purge date has passed and who is not active is purged. The bulk
 * selection of the purge job is this predicate in SQL (`purgeDue` in users/user.store.ts).
 */
export function isPurgeDue(user: Pick<User, 'state' | 'purgeAfter'>, now: Date): boolean {
  return user.state !== 'active' && user.purgeAfter !== null && user.purgeAfter <= now;
}

// ---- operator doors: deactivate and restore -------------------------------------------------

export type OperatorDecision =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'change'; readonly state: UserStateChange }
  | { readonly kind: 'refuse'; readonly detail: string };

/** rules 3 and 4: an operator deactivates an active user; a user already out is left as it is. */
export function decideOperatorDeactivation(user: Pick<User, 'state'>): OperatorDecision {
  return user.state === 'active'
    ? { kind: 'change', state: userState.inactive('operator') }
    : { kind: 'unchanged' };
}

/**
 * rule 5: an operator brings a deprovisioned (or dormant) user back, active, before its purge;
 * past its purge date it can no longer be restored; an active user is left as it is.
 */
export function decideOperatorRestore(
  user: Pick<User, 'state' | 'purgeAfter'>,
  now: Date,
): OperatorDecision {
  if (user.state === 'active') return { kind: 'unchanged' };
  if (isPurgeDue(user, now))
    return { kind: 'refuse', detail: 'past its purge date and can no longer be restored' };
  return { kind: 'change', state: userState.active() };
}

// ---- rule 2, groups: a JIT user's JIT groups follow the assertion ----------------------------

/**
 * rule 2: the group names an assertion asserts: trimmed, blank ones dropped, one per name compared
 * case-insensitively (the first spelling the IdP sent wins).
 */
export function jitGroupNames(asserted: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const name of asserted.map((n) => n.trim()).filter(Boolean)) {
    if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  }
  return [...byKey.values()];
}

export interface JitGroupSync {
  /** Names of JIT groups to create (none of the tenant has that name yet). */
  readonly create: readonly string[];
  /** Names of JIT groups the user joins (created ones included). */
  readonly join: readonly string[];
  /** Ids of JIT groups the user leaves. */
  readonly leave: readonly string[];
}

/**
 * rule 2: a JIT user's memberships in JIT groups become exactly the asserted groups, creating the
 * groups that do not exist; SCIM-managed groups are never part of it.
 *
 * @param current the JIT groups the user is a member of
 * @param existing the tenant's JIT groups named as asserted
 */
export function decideJitGroupSync(
  current: readonly { readonly groupId: string; readonly displayName: string }[],
  existing: readonly { readonly displayName: string }[],
  asserted: readonly string[],
): JitGroupSync {
  const wanted = jitGroupNames(asserted);
  const wantedKeys = new Set(wanted.map((name) => name.toLowerCase()));
  const memberOf = new Set(current.map((g) => g.displayName.toLowerCase()));
  const exists = new Set(existing.map((g) => g.displayName.toLowerCase()));
  return {
    create: wanted.filter((name) => !exists.has(name.toLowerCase())),
    join: wanted.filter((name) => !memberOf.has(name.toLowerCase())),
    leave: current
      .filter((g) => !wantedKeys.has(g.displayName.toLowerCase()))
      .map((g) => g.groupId),
  };
}

function uniqueById(users: readonly User[]): User[] {
  const seen = new Map<string, User>();
  for (const user of users) seen.set(user.id, user);
  return [...seen.values()];
}
