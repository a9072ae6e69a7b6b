// Signing a person in through a connection of the tenant (rules 2, 3 and 4), whatever the protocol:
// the adapter validates its message and says who the connection asserts; here, in one transaction,
// the protocol facts are checked (request answered, replay, IdP-initiated), the rules decide, and
// the link, the user, its JIT groups, the sessions, the audit and the outbox rows are written.
import { appendChanges } from '../changes/outbox.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransactionRetryingRaces, type Db, type Tx } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { assertIndexedText, assertStorableUser } from '../input-limits.js';
import { syncJitGroups } from '../provisioning/sync-jit-groups.js';
import { recordUserChange } from '../provisioning/record-change.js';
import { isTransientNameId } from '../reconciliation/identity-key.js';
import {
  assertedUserName,
  decideAnsweredRequest,
  decideSignIn,
  decideUnsolicited,
  signInLookups,
  signInWrites,
  stateOnCreate,
  type IdentityProviderPolicy,
  type MatchKey,
  type ProtocolRefusalReason,
  type RefusalReason,
  type SignInDecision,
  type SolicitationPolicy,
} from '../reconciliation/reconcile.js';
import { answerSamlRequest, isAssertionIdUsed, recordAssertionId } from '../saml/saml-state.js';
import {
  DEFAULT_SESSION_POLICY,
  endSession,
  openSession,
  type SessionPolicy,
} from '../sessions/session.js';
import type { User, UserAttributes } from '../users/user.js';
import {
  insertUser,
  lockUserByUserName,
  lockUsersByEmail,
  updateUser,
} from '../users/user.store.js';
import { insertLink, lockUserByLink, touchLink, type LinkKey } from '../links/link.repository.js';
import { recordSignInRefusal } from './sign-in-refusal.js';

/** The sign-in protocols a connection speaks. */
export type ConnectionKind = 'saml';

/** What a connection's settings decide about a sign-in (JIT, matching, IdP-initiated). */
export interface ConnectionPolicy extends IdentityProviderPolicy, SolicitationPolicy {}

/** The connection (a SAML IdP) a person signs in through, as its caller already loaded it. */
export interface SignInConnection {
  readonly id: string;
  readonly kind: ConnectionKind;
  readonly policy: ConnectionPolicy;
}

/** Who the connection asserts, after its attribute mapping (the adapter's job). */
export interface Assertion {
  /** The subject: SAML NameID. */
  readonly subject: string;
  /** The subject's format (SAML NameID@Format): a transient one never links. */
  readonly subjectFormat?: string | undefined;
  /** Mapped attributes; `userName` defaults to the subject. */
  readonly attributes?: Partial<UserAttributes> | undefined;
  /**
   * Group names from the connection's groups attribute, when it maps one (absent: memberships are
   * left alone). A JIT user's JIT-group memberships are synchronised to exactly these.
   */
  readonly groups?: readonly string[] | undefined;
  /** SAML AuthnStatement@SessionIndex, kept on the session for single logout. */
  readonly sessionIndex?: string | undefined;
}

/** The request a response answers: its id, and the browser that brings the response. */
export interface AnsweredRequest {
  readonly id: string;
  /** SHA-256 of the browser's pre-login cookie; undefined when it brought none. */
  readonly browserBinding: Buffer | undefined;
}

/** What the protocol says about the message, checked in the sign-in's transaction. */
export interface ProtocolFacts {
  /** The request this response answers; absent for an unsolicited (IdP-initiated) one. */
  readonly request?: AnsweredRequest | undefined;
  /** The message's one-time id (SAML Assertion@ID) and how long to remember it (replay). */
  readonly assertion?: { readonly id: string; readonly rememberUntil: Date } | undefined;
}

export interface SignInAttempt {
  readonly tenantId: string;
  readonly connection: SignInConnection;
  readonly asserted: Assertion;
  /** Absent only where no message was received (tests, tools); an adapter always gives them. */
  readonly protocol?: ProtocolFacts | undefined;
  /** The session cookie the browser brought: that session ends at this sign-in. */
  readonly previousSessionToken?: string | undefined;
  readonly sessionPolicy?: SessionPolicy | undefined;
}

export type SignInRefusalReason = RefusalReason | ProtocolRefusalReason;

export type SignInResult =
  | {
      readonly outcome: 'signed_in';
      readonly user: User;
      readonly created: boolean;
      readonly linked: boolean;
      readonly refreshed: boolean;
      readonly matchedBy: MatchKey | 'created';
      /** The session cookie's value: shown once, stored only as a hash. */
      readonly session: { readonly token: string; readonly expiresAt: Date };
      /** Where the answered request asked to go afterwards, if it did. */
      readonly returnTo: string | null;
    }
  | {
      readonly outcome: 'refused';
      readonly reason: SignInRefusalReason;
      readonly detail: string;
      readonly userId?: string;
    };

type Refused = Extract<SignInResult, { outcome: 'refused' }>;

/**
 * Signs a person in from a validated assertion of one of the tenant's connections. Everything it
 * writes (request consumed, assertion id, link, user, groups, sessions, audit, outbox) is one
 * transaction; a refusal writes only what the protocol consumed and its one audit event.
 *
 * @example
 * const result = await signIn(db, {
 *   tenantId: tenant.id,
 *   connection: samlConnection(idp),
 *   asserted: { subject: 'ann@example.com' },
 * }, ctx, clock);
 * if (result.outcome === 'signed_in') setCookie(result.session.token);
 */
export async function signIn(
  db: Db,
  attempt: SignInAttempt,
  context: ChangeContext,
  clock: Clock,
): Promise<SignInResult> {
  const { tenantId, connection, asserted } = attempt;
  const attributes = assertedAttributes(asserted);
  const link: LinkKey = {
    connectionId: connection.id,
    subject: asserted.subject,
    subjectFormat: asserted.subjectFormat,
  };
  return inTransactionRetryingRaces(db, async (tx): Promise<SignInResult> => {
    const now = clock.now();
    const protocol = await checkProtocol(tx, attempt, now);
    if (protocol.outcome === 'refused') {
      await recordSignInRefusal(tx, tenantId, context, { connection, ...protocol });
      return protocol;
    }
    const decision = await decide(tx, tenantId, connection.policy, link, attributes);
    if (decision.kind === 'refuse') {
      // Rule 3: a refusal writes nothing to the directory, only its audit event.
      const refused = {
        outcome: 'refused',
        reason: decision.reason,
        detail: decision.detail,
        ...(decision.user ? { userId: decision.user.id } : {}),
      } as const;
      await recordSignInRefusal(tx, tenantId, context, {
        connection,
        ...refused,
        subject: asserted.subject,
      });
      return refused;
    }
    const { action, syncJitGroups: jitSync } = signInWrites(decision);
    let user: User;
    if (decision.kind === 'create') {
      user = await insertUser(tx, tenantId, attributes, {
        source: 'jit',
        state: stateOnCreate(true, 'jit'),
        now,
        lastSignInAt: now,
      });
    } else {
      // JIT synchronisation for JIT users; SCIM-managed users keep SCIM's attributes (rule 2).
      const refresh = decision.refresh ? { attributes } : {};
      user = await updateUser(tx, decision.user, { ...refresh, lastSignInAt: now }, now);
    }
    if (decision.link) await insertLink(tx, tenantId, link, user.id, now);
    else await touchLink(tx, tenantId, link, now);
    const groupSync =
      jitSync && asserted.groups
        ? await syncJitGroups(tx, tenantId, user.id, asserted.groups, now)
        : undefined;
    // A new session id at every sign-in; the browser's previous session here ends.
    if (attempt.previousSessionToken)
      await endSession(tx, tenantId, attempt.previousSessionToken, 'replaced');
    const session = await openSession(
      tx,
      tenantId,
      {
        userId: user.id,
        connectionId: connection.id,
        subject: asserted.subject,
        subjectFormat: asserted.subjectFormat,
        sessionIndex: asserted.sessionIndex,
      },
      now,
      attempt.sessionPolicy ?? DEFAULT_SESSION_POLICY,
    );
    const matchedBy = decision.kind === 'create' ? 'created' : decision.matchedBy;
    const before = decision.kind === 'create' ? undefined : decision.user;
    await recordUserChange(tx, context, action, before, user, {
      idpId: connection.id,
      matchedBy,
      linked: decision.link,
      ...(groupSync ? { groups: { joined: groupSync.joined, left: groupSync.left } } : {}),
    });
    if (groupSync) await appendChanges(tx, tenantId, groupSync.changes);
    return {
      outcome: 'signed_in',
      user,
      created: decision.kind === 'create',
      linked: decision.link,
      refreshed: decision.kind === 'sign_in' && decision.refresh,
      matchedBy,
      session,
      returnTo: protocol.returnTo,
    };
  });
}

/**
 * The protocol's part, before the rules: the answered request is consumed (or the response is
 * unsolicited, where the connection allows it), then the assertion id is recorded once.
 */
async function checkProtocol(
  tx: Tx,
  attempt: SignInAttempt,
  now: Date,
): Promise<Refused | { outcome: 'accepted'; returnTo: string | null }> {
  if (!attempt.protocol) return { outcome: 'accepted', returnTo: null };
  const { request, assertion } = attempt.protocol;
  const answered = request
    ? await answerRequest(tx, attempt.tenantId, attempt.connection.id, request, assertion?.id, now)
    : { refusal: decideUnsolicited(false, attempt.connection.policy), returnTo: null };
  if (answered.refusal) return protocolRefusal(answered.refusal, assertion?.id);
  if (
    assertion &&
    !(await recordAssertionId(tx, attempt.connection.id, assertion.id, assertion.rememberUntil))
  )
    return protocolRefusal('replayed', assertion.id);
  return { outcome: 'accepted', returnTo: answered.returnTo };
}

/** Consumes the answered request; a gone one whose assertion id was used before is a replay. */
async function answerRequest(
  tx: Tx,
  tenantId: string,
  connectionId: string,
  request: AnsweredRequest,
  assertionId: string | undefined,
  now: Date,
): Promise<{ refusal: ProtocolRefusalReason | undefined; returnTo: string | null }> {
  const { status, returnTo } = await answerSamlRequest(
    tx,
    tenantId,
    connectionId,
    request.id,
    request.browserBinding,
    now,
  );
  const usedBefore =
    status === 'unknown' && assertionId !== undefined
      ? await isAssertionIdUsed(tx, connectionId, assertionId)
      : false;
  return { refusal: decideAnsweredRequest(status, usedBefore), returnTo };
}

const PROTOCOL_REFUSAL_DETAILS: Record<ProtocolRefusalReason, (assertionId?: string) => string> = {
  unsolicited: () => 'IdP-initiated sign-in is off for this IdP',
  replayed: (assertionId) => `assertion ${assertionId ?? ''} was used before`,
  unknown_in_response_to: () => 'InResponseTo names no request started here',
  request_expired: () => 'the request it answers has expired',
  in_response_to_other_browser: () => 'the request it answers was started by another browser',
  no_login_cookie: () => 'the browser brought no pre-login cookie',
};

const protocolRefusal = (
  reason: ProtocolRefusalReason,
  assertionId?: string,
): Refused & { reason: ProtocolRefusalReason } => ({
  outcome: 'refused',
  reason,
  detail: PROTOCOL_REFUSAL_DETAILS[reason](assertionId),
});

/** A refusal the adapter found (its message did not validate), with the request it claims to answer. */
export interface AdapterRefusal<Reason extends string> {
  readonly tenantId: string;
  readonly connection: SignInConnection;
  readonly reason: Reason;
  readonly detail: string;
  /** The request the message claims to answer, when the adapter got that far: consumed here. */
  readonly request?: AnsweredRequest | undefined;
  /** The message's one-time id, NOT verified: only to tell a replay apart. */
  readonly unverifiedAssertionId?: string | undefined;
}

/**
 * Refuses a sign-in whose message the adapter could not accept, in one transaction. The request
 * the message claims to answer is consumed first, and its own refusal wins (as when it is checked
 * before the signature): a gone request with an assertion id used before is reported a replay.
 */
export async function refuseSignIn<Reason extends string>(
  db: Db,
  refusal: AdapterRefusal<Reason>,
  context: ChangeContext,
  clock: Clock,
): Promise<{ reason: Reason | ProtocolRefusalReason; detail: string }> {
  const { tenantId, connection, request, unverifiedAssertionId } = refusal;
  return inTransactionRetryingRaces(db, async (tx) => {
    const answered = request
      ? await answerRequest(
          tx,
          tenantId,
          connection.id,
          request,
          unverifiedAssertionId,
          clock.now(),
        )
      : undefined;
    const final = answered?.refusal
      ? protocolRefusal(answered.refusal, unverifiedAssertionId)
      : { reason: refusal.reason, detail: refusal.detail };
    await recordSignInRefusal(tx, tenantId, context, { connection, ...final });
    return { reason: final.reason, detail: final.detail };
  });
}

function assertedAttributes(asserted: Assertion): UserAttributes {
  if (asserted.subject.trim() === '')
    throw invalid('the assertion has an empty NameID', { field: 'nameId' });
  assertIndexedText(asserted.subject, 'the NameID');
  asserted.groups?.forEach((name) => assertIndexedText(name, 'a group name'));
  const attributes = asserted.attributes ?? {};
  const withUserName = {
    ...attributes,
    userName: assertedUserName(asserted.subject, attributes.userName),
  };
  assertStorableUser(withUserName);
  return withUserName;
}

/** Finds and locks the candidates the connection's policy consults, and decides (sign-in and explain). */
async function decide(
  tx: Tx,
  tenantId: string,
  policy: IdentityProviderPolicy,
  link: LinkKey,
  attributes: UserAttributes,
): Promise<SignInDecision> {
  const transient = isTransientNameId(link.subjectFormat);
  const linked = await lockUserByLink(tx, tenantId, link);
  if (linked) return decideSignIn({ linked }, policy, transient);
  const lookups = signInLookups(policy);
  const byUserName = lookups.userName
    ? await lockUserByUserName(tx, tenantId, attributes.userName)
    : undefined;
  const emails = (attributes.emails ?? []).map((e) => e.value);
  const byEmail = lookups.email
    ? (await Promise.all(emails.map((email) => lockUsersByEmail(tx, tenantId, email)))).flat()
    : [];
  return decideSignIn({ byUserName, byEmail }, policy, transient);
}

/** What a sign-in would do, through the same rules (`roster explain`): nothing is written. */
export async function explainSignInAttempt(
  db: Db,
  attempt: Pick<SignInAttempt, 'tenantId' | 'connection' | 'asserted'>,
): Promise<{ userName: string; transientNameId: boolean; decision: SignInDecision }> {
  const { tenantId, connection, asserted } = attempt;
  const attributes = assertedAttributes(asserted);
  const link = {
    connectionId: connection.id,
    subject: asserted.subject,
    subjectFormat: asserted.subjectFormat,
  };
  const decision = await db
    .transaction()
    .execute((tx) => decide(tx, tenantId, connection.policy, link, attributes));
  return {
    userName: attributes.userName,
    transientNameId: isTransientNameId(asserted.subjectFormat),
    decision,
  };
}
