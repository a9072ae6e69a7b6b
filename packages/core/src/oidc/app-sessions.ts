// Which apps a Roster session signed in to over OpenID Connect, and what happens to them when the
// session ends: their provider session and grants are deleted (tokens die with the session) and
// each app with a back-channel logout URI is told, through the delivery queue, in the transaction
// that ends the session (OpenID Connect Back-Channel Logout 1.0).
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/transaction.js';
import { enqueueDelivery } from '../outbound/deliveries.js';
import { endSessionByIdHash, sessionIdHash } from '../sessions/session.js';

/** The delivery kind of a back-channel logout notice (see `backchannel-logout.ts`). */
export const BACKCHANNEL_LOGOUT_DELIVERY = 'oidc.backchannel_logout';

/** Why a session ended, as a logout notice and the `session.ended` event say it. */
export type SessionEndReason =
  /** The person signed out (Roster's logout, or an app's RP-initiated logout). */
  | 'signed_out'
  /** The IdP's single logout named the session. */
  | 'idp_logout'
  /** The user was deactivated, deprovisioned or deleted (SCIM, an operator, cleanup). */
  | 'user_ended'
  /** A new sign-in in the same browser replaced it. */
  | 'replaced'
  /** The connection it was opened through was removed. */
  | 'connection_removed';

/** What a logout notice carries until it is signed at delivery. */
export interface BackchannelLogoutPayload {
  readonly clientId: string;
  readonly sub: string;
  readonly sid: string;
  readonly reason: SessionEndReason;
}

/**
 * A Roster session as the OpenID Provider may hold it: the hash of the cookie value, never the
 * value (a reference cannot be turned back into a session).
 */
export const sessionReference = (sessionToken: string): string =>
  sessionIdHash(sessionToken).toString('base64url');

/** An app was signed in through a provider session; the first sign-in names the Roster session. */
export interface AppSignIn {
  readonly providerSessionUid: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly sid: string;
  readonly grantId?: string | undefined;
  /** Given when the provider session was just opened by a Roster sign-in. */
  readonly sessionReference?: string | undefined;
}

/**
 * Records that an app was signed in through a provider session. Without a session reference the
 * provider session's earlier row names the Roster session; false when there is none (the
 * provider session is bound to no Roster session, and must not sign anyone in).
 */
export async function recordAppSignIn(db: Db, tenantId: string, app: AppSignIn): Promise<boolean> {
  const sessionHash = app.sessionReference
    ? Buffer.from(app.sessionReference, 'base64url')
    : (
        await db
          .selectFrom('oidc_app_sessions')
          .select('session_id_hash')
          .where('tenant_id', '=', tenantId)
          .where('provider_session_uid', '=', app.providerSessionUid)
          .executeTakeFirst()
      )?.session_id_hash;
  if (!sessionHash) return false;
  await db
    .insertInto('oidc_app_sessions')
    .values({
      tenant_id: tenantId,
      provider_session_uid: app.providerSessionUid,
      client_id: app.clientId,
      session_id_hash: sessionHash,
      account_id: app.accountId,
      sid: app.sid,
      grant_id: app.grantId ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'provider_session_uid', 'client_id']).doUpdateSet({
        session_id_hash: sessionHash,
        sid: app.sid,
        grant_id: app.grantId ?? null,
      }),
    )
    .execute();
  return true;
}

/**
 * Whether a provider session still stands on a live Roster session of an active user: the
 * provider's own session never outlives Roster's (idle or absolute expiry, logout, deactivation).
 */
export async function providerSessionIsLive(
  db: Db,
  tenantId: string,
  providerSessionUid: string,
  accountId: string,
  clock: Clock,
): Promise<boolean> {
  const now = clock.now();
  const row = await db
    .selectFrom('oidc_app_sessions as a')
    .innerJoin('sessions as s', (join) =>
      join.onRef('s.tenant_id', '=', 'a.tenant_id').onRef('s.id_hash', '=', 'a.session_id_hash'),
    )
    .innerJoin('users as u', (join) =>
      join.onRef('u.tenant_id', '=', 's.tenant_id').onRef('u.id', '=', 's.user_id'),
    )
    .select('u.id')
    .where('a.tenant_id', '=', tenantId)
    .where('a.provider_session_uid', '=', providerSessionUid)
    .where('s.user_id', '=', accountId)
    .where('u.lifecycle_state', '=', 'active')
    .where('s.idle_expires_at', '>', now)
    .where('s.absolute_expires_at', '>', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Ends what apps hold through the given Roster sessions (in the caller's transaction): deletes
 * their provider sessions and grants, and queues a logout notice to every app that registered a
 * back-channel logout URI. Returns how many notices were queued.
 */
export async function endAppSessions(
  tx: Tx,
  tenantId: string,
  sessionHashes: readonly Buffer[],
  reason: SessionEndReason,
): Promise<number> {
  if (sessionHashes.length === 0) return 0;
  const ended = await tx
    .deleteFrom('oidc_app_sessions')
    .where('tenant_id', '=', tenantId)
    .where('session_id_hash', 'in', sessionHashes)
    .returning(['provider_session_uid', 'client_id', 'account_id', 'sid', 'grant_id'])
    .execute();
  if (ended.length === 0) return 0;
  const providerSessions = [...new Set(ended.map((row) => row.provider_session_uid))];
  const grants = ended.flatMap((row) => (row.grant_id ? [row.grant_id] : []));
  await tx
    .deleteFrom('oidc_payloads')
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb.and([eb('model', '=', 'Session'), eb('uid', 'in', providerSessions)]),
        ...(grants.length > 0 ? [eb('grant_id', 'in', grants)] : []),
      ]),
    )
    .execute();
  const listening = await tx
    .selectFrom('oidc_apps')
    .select(['client_id', 'backchannel_logout_uri'])
    .where('tenant_id', '=', tenantId)
    .where('client_id', 'in', [...new Set(ended.map((row) => row.client_id))])
    .where('backchannel_logout_uri', 'is not', null)
    .execute();
  const uriOf = new Map(listening.map((app) => [app.client_id, app.backchannel_logout_uri]));
  let queued = 0;
  for (const row of ended) {
    const targetUrl = uriOf.get(row.client_id);
    if (!targetUrl) continue;
    const payload: BackchannelLogoutPayload = {
      clientId: row.client_id,
      sub: row.account_id,
      sid: row.sid,
      reason,
    };
    await enqueueDelivery(tx, {
      tenantId,
      kind: BACKCHANNEL_LOGOUT_DELIVERY,
      targetUrl,
      payload,
    });
    queued += 1;
  }
  return queued;
}

/**
 * The person signed out of an app (OpenID Connect RP-Initiated Logout): the Roster session behind
 * the provider session ends, and with it every app's sign-in through it. False when no Roster
 * session stood behind it any more.
 */
export async function endProviderSession(
  db: Db,
  tenantId: string,
  providerSessionUid: string,
): Promise<boolean> {
  const link = await db
    .selectFrom('oidc_app_sessions')
    .select('session_id_hash')
    .where('tenant_id', '=', tenantId)
    .where('provider_session_uid', '=', providerSessionUid)
    .executeTakeFirst();
  if (!link) return false;
  const ended = await endSessionByIdHash(db, tenantId, link.session_id_hash, 'signed_out');
  return ended !== undefined;
}

/**
 * Deletes every grant and token the OpenID Provider holds for a person (deactivation, deletion):
 * whatever an app holds stops working at once, session or not.
 */
export async function endAccountGrants(tx: Tx, tenantId: string, userId: string): Promise<void> {
  await tx
    .deleteFrom('oidc_payloads')
    .where('tenant_id', '=', tenantId)
    .where('account_id', '=', userId)
    .execute();
}

/** Deletes expired provider state and the rows of sessions that are gone (maintenance). */
export async function pruneProviderState(db: Db, now: Date): Promise<number> {
  const expired = await db
    .deleteFrom('oidc_payloads')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  const orphaned = await db
    .deleteFrom('oidc_app_sessions as a')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('sessions as s')
            .select(sql.lit(1).as('one'))
            .whereRef('s.tenant_id', '=', 'a.tenant_id')
            .whereRef('s.id_hash', '=', 'a.session_id_hash'),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(expired.numDeletedRows) + Number(orphaned.numDeletedRows);
}
