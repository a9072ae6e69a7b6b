// The reconciliation rules (README, "The rules"), in one place, as pure decisions over the candidates a
// use case found (and locked). No I/O here: the use cases in ../provisioning apply the decisions.
import type { User } from '../users/user.js';

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
    return user.purgeAfter && user.purgeAfter > now
      ? { kind: 'restore', user, matchedBy }
      : { kind: 'replace_expired', user, matchedBy };
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

function uniqueById(users: readonly User[]): User[] {
  const seen = new Map<string, User>();
  for (const user of users) seen.set(user.id, user);
  return [...seen.values()];
}
