// SSO sessions, the one module that reads and writes them: server-side rows keyed by the SHA-256
// of the cookie value, with idle and absolute timeouts (README, "Single sign-on (SAML)"). Every
// query is scoped to a tenant. Deactivation ends a user's sessions in its own transaction (rule 4).
import { createHash, randomBytes } from 'node:crypto';
import { appendChanges } from '../changes/outbox.js';
import type { Clock } from '../clock.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { sessionEndedChanges } from '../events/payloads.js';
import { groupsOfUsers } from '../groups/group-member.repository.js';
import { findUser } from '../users/user.repository.js';
import { endAccountGrants, endAppSessions, type SessionEndReason } from '../oidc/app-sessions.js';

/** Runs `work` in the caller's transaction, or in a new one. */
const inOwnOrGivenTransaction = <T>(db: Db | Tx, work: (tx: Tx) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db as Tx) : inTransaction(db, work);

export interface SessionPolicy {
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleTimeoutMs: 8 * 3_600_000,
  absoluteTimeoutMs: 24 * 3_600_000,
};

/** Sessions are stored under the SHA-256 of their cookie value. */
export const sessionIdHash = (token: string): Buffer =>
  createHash('sha256').update(token, 'utf8').digest();

/**
 * A session's id as events name it: a UUID (RFC 9562 §5.8, version 8) made from the SHA-256 of
 * the stored key, which is itself a hash of the cookie; so it is stable, and nothing can be
 * worked back from it.
 */
export function sessionPublicId(idHash: Buffer): string {
  const bytes = createHash('sha256').update('roster.session.id\0').update(idHash).digest();
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * What follows from sessions that ended, in the transaction that ended them: what apps hold
 * through them ends too (back-channel logout), and one `session.ended` outbox row each, all in
 * one statement however many there are.
 */
async function announceEndedSessions(
  tx: Tx,
  tenantId: string,
  ended: readonly { readonly id_hash: Buffer; readonly user_id: string }[],
  reason: SessionEndReason,
): Promise<void> {
  if (ended.length === 0) return;
  await endAppSessions(
    tx,
    tenantId,
    ended.map((row) => row.id_hash),
    reason,
  );
  await appendChanges(
    tx,
    tenantId,
    sessionEndedChanges(
      ended.map((row) => ({ id: sessionPublicId(row.id_hash), userId: row.user_id })),
      reason,
    ),
  );
}

/** The idle deadline is pushed back at most this often, so a busy page costs no write per call. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/** A session cookie value is 32 random bytes in base64url; anything else is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The signed-in person as apps behind Roster see them (`whoami`). */
export interface SignedInUser {
  readonly id: string;
  readonly userName: string;
  readonly displayName: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly emails: readonly string[];
  readonly groups: readonly string[];
}

export interface ActiveSession {
  readonly tenantId: string;
  readonly idpId: string | null;
  readonly nameId: string | null;
  readonly nameIdFormat: string | null;
  readonly sessionIndex: string | null;
  readonly createdAt: Date;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
}

/** Who a new session is for, and what single logout will need to name it at the IdP. */
export interface NewSession {
  readonly userId: string;
  /** The connection (IdP) the person signed in through. */
  readonly connectionId: string;
  /** The subject the connection asserted (SAML NameID) and its format. */
  readonly subject: string;
  readonly subjectFormat?: string | undefined;
  /** SAML AuthnStatement@SessionIndex, for single logout. */
  readonly sessionIndex?: string | undefined;
}

/**
 * Opens a session in the caller's transaction. The token is the cookie's value: returned once,
 * stored only as a hash.
 */
export async function openSession(
  tx: Tx,
  tenantId: string,
  session: NewSession,
  now: Date,
  policy: SessionPolicy,
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + policy.absoluteTimeoutMs);
  await tx
    .insertInto('sessions')
    .values({
      id_hash: sessionIdHash(token),
      tenant_id: tenantId,
      user_id: session.userId,
      idp_id: session.connectionId,
      name_id: session.subject,
      name_id_format: session.subjectFormat ?? null,
      session_index: session.sessionIndex ?? null,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: new Date(now.getTime() + policy.idleTimeoutMs),
      absolute_expires_at: expiresAt,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * The user behind a session cookie, if the session is live (not idle too long, not past its
 * absolute lifetime, user active); pushes the idle deadline back. Undefined otherwise.
 *
 * @example
 * const signedIn = await authenticateSession(db, tenant.id, cookie, clock);
 * if (!signedIn) res.status(401);
 */
export async function authenticateSession(
  db: Db,
  tenantId: string,
  token: string,
  clock: Clock,
  policy: SessionPolicy = DEFAULT_SESSION_POLICY,
): Promise<{ user: SignedInUser; session: ActiveSession } | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const now = clock.now();
  const idHash = sessionIdHash(token);
  const row = await db
    .selectFrom('sessions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row || row.idle_expires_at <= now || row.absolute_expires_at <= now) return undefined;
  const user = await findSignedInUser(db, tenantId, row.user_id);
  if (!user) return undefined;
  let idleExpiresAt = row.idle_expires_at;
  if (now.getTime() - row.last_seen_at.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
    idleExpiresAt = new Date(
      Math.min(now.getTime() + policy.idleTimeoutMs, row.absolute_expires_at.getTime()),
    );
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
      .where('tenant_id', '=', tenantId)
      .where('id_hash', '=', idHash)
      .execute();
  }
  return {
    user,
    session: {
      tenantId,
      idpId: row.idp_id,
      nameId: row.name_id,
      nameIdFormat: row.name_id_format,
      sessionIndex: row.session_index,
      createdAt: row.created_at,
      idleExpiresAt,
      absoluteExpiresAt: row.absolute_expires_at,
    },
  };
}

/**
 * A person as apps see them (whoami, ID tokens), when they are active; undefined otherwise.
 */
export async function findSignedInUser(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<SignedInUser | undefined> {
  const [user, groupsByUser] = await Promise.all([
    findUser(db, tenantId, userId),
    groupsOfUsers(db, tenantId, [userId]),
  ]);
  if (user?.state !== 'active') return undefined;
  return {
    id: user.id,
    userName: user.userName,
    displayName: user.displayName,
    givenName: user.givenName,
    familyName: user.familyName,
    emails: user.emails.map((e) => e.value),
    groups: (groupsByUser.get(user.id) ?? []).map((g) => g.display),
  };
}

/**
 * Ends the session behind a cookie (local logout, or a new sign-in replacing it) and what apps
 * hold through it. Returns what SAML single logout needs to name it at the IdP, or undefined when
 * there was no such session.
 */
export async function endSession(
  db: Db | Tx,
  tenantId: string,
  token: string,
  reason: SessionEndReason = 'signed_out',
): Promise<ActiveSession | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const row = await endSessionByIdHash(db, tenantId, sessionIdHash(token), reason);
  return (
    row && {
      tenantId,
      idpId: row.idp_id,
      nameId: row.name_id,
      nameIdFormat: row.name_id_format,
      sessionIndex: row.session_index,
      createdAt: row.created_at,
      idleExpiresAt: row.idle_expires_at,
      absoluteExpiresAt: row.absolute_expires_at,
    }
  );
}

/** Ends one session by its stored key, and what apps hold through it. */
export async function endSessionByIdHash(
  db: Db | Tx,
  tenantId: string,
  idHash: Buffer,
  reason: SessionEndReason,
) {
  return inOwnOrGivenTransaction(db, async (tx) => {
    const ended = await tx
      .deleteFrom('sessions')
      .where('tenant_id', '=', tenantId)
      .where('id_hash', '=', idHash)
      .returningAll()
      .executeTakeFirst();
    if (ended) await announceEndedSessions(tx, tenantId, [ended], reason);
    return ended;
  });
}

/**
 * Ends the sessions an IdP's LogoutRequest names (SAML core §3.7.3.2): the NameID's sessions
 * at that IdP, only those with the given SessionIndex when one is given.
 */
export async function endSessionsBySamlLogout(
  db: Db,
  tenantId: string,
  idpId: string,
  nameId: string,
  sessionIndex?: string,
): Promise<number> {
  return inTransaction(db, async (tx) => {
    let query = tx
      .deleteFrom('sessions')
      .where('tenant_id', '=', tenantId)
      .where('idp_id', '=', idpId)
      .where('name_id', '=', nameId);
    if (sessionIndex !== undefined) query = query.where('session_index', '=', sessionIndex);
    const ended = await query.returning(['id_hash', 'user_id']).execute();
    await announceEndedSessions(tx, tenantId, ended, 'idp_logout');
    return ended.length;
  });
}

/**
 * Ends every session of a user and every grant apps hold for them (rule 4: in the transaction
 * that deactivates or deletes).
 */
export async function endUserSessions(tx: Tx, tenantId: string, userId: string): Promise<number> {
  const ended = await tx
    .deleteFrom('sessions')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .returning(['id_hash', 'user_id'])
    .execute();
  await announceEndedSessions(tx, tenantId, ended, 'user_ended');
  await endAccountGrants(tx, tenantId, userId);
  return ended.length;
}

/** Deletes the sessions past their idle or absolute deadline, in every tenant (maintenance). */
export async function pruneExpiredSessions(db: Db, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('idle_expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends every session opened through a connection (the connection is being removed). */
export async function endConnectionSessions(
  tx: Tx,
  tenantId: string,
  connectionId: string,
): Promise<number> {
  const ended = await tx
    .deleteFrom('sessions')
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', connectionId)
    .returning(['id_hash', 'user_id'])
    .execute();
  await announceEndedSessions(tx, tenantId, ended, 'connection_removed');
  return ended.length;
}
