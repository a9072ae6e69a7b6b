// The SAML service provider's state, in the database so any number of instances agree:
// AuthnRequest ids awaiting their answer (bound to the browser that asked) and the assertion ids
// already used (replay). node-saml's own cache is per process, and it keeps no assertion ids.
import { timingSafeEqual } from 'node:crypto';
import type { Db, Tx } from '../db/transaction.js';
import type { AnsweredRequestStatus } from '../reconciliation/reconcile.js';
import { pruneExpiredSessions } from '../sessions/session.js';

/** Longest request or assertion id stored (SAML ids are xs:ID; IdPs use 20 to 70 characters). */
export const MAX_SAML_ID_LENGTH = 256;

export interface PendingRequest {
  readonly id: string;
  /** node-saml's value: the AuthnRequest's IssueInstant. */
  readonly value: string;
  /** SHA-256 of the pre-login cookie of the browser that started the login; null for logout. */
  readonly browserBinding: Buffer | null;
  readonly expiresAt: Date;
  /** Where to send the browser afterwards (already checked against the tenant's origins). */
  readonly returnTo?: string | null;
}

/** Records an AuthnRequest (or LogoutRequest) id; false when the id is already there. */
export async function saveSamlRequestId(
  db: Db,
  tenantId: string,
  idpId: string,
  request: PendingRequest,
  now: Date,
): Promise<{ value: string; createdAt: Date } | undefined> {
  if (request.id.length > MAX_SAML_ID_LENGTH) return undefined;
  const row = await db
    .insertInto('saml_request_ids')
    .values({
      id: request.id,
      tenant_id: tenantId,
      idp_id: idpId,
      browser_binding: request.browserBinding,
      value: request.value,
      return_to: request.returnTo ?? null,
      created_at: now,
      expires_at: request.expiresAt,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning(['value', 'created_at'])
    .executeTakeFirst();
  return row && { value: row.value, createdAt: row.created_at };
}

export type RequestIdLookup =
  | { readonly status: 'pending'; readonly value: string; readonly returnTo: string | null }
  | { readonly status: 'unknown' | 'expired' | 'other_browser' };

/**
 * Whether a response's InResponseTo names a request this browser started at this IdP, still
 * waiting. The reasons it does not are told apart for the log.
 */
export async function lookupSamlRequestId(
  db: Db,
  tenantId: string,
  idpId: string,
  id: string,
  browserBinding: Buffer | null,
  now: Date,
): Promise<RequestIdLookup> {
  if (id.length > MAX_SAML_ID_LENGTH) return { status: 'unknown' };
  const row = await db
    .selectFrom('saml_request_ids')
    .select(['value', 'browser_binding', 'expires_at', 'return_to'])
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', idpId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return { status: 'unknown' };
  if (!sameBinding(row.browser_binding, browserBinding)) return { status: 'other_browser' };
  if (row.expires_at <= now) return { status: 'expired' };
  return { status: 'pending', value: row.value, returnTo: row.return_to };
}

const sameBinding = (stored: Buffer | null, offered: Buffer | null): boolean =>
  stored === null || offered === null
    ? stored === offered
    : stored.length === offered.length && timingSafeEqual(stored, offered);

/**
 * Consumes the request a response answers, inside the sign-in's transaction: the row goes only
 * when this browser started it (answered or failed, it is never answered twice); the status says
 * why not otherwise. `browserBinding` undefined: the browser brought no pre-login cookie.
 */
export async function answerSamlRequest(
  tx: Tx,
  tenantId: string,
  idpId: string,
  id: string,
  browserBinding: Buffer | undefined,
  now: Date,
): Promise<{ status: AnsweredRequestStatus; returnTo: string | null }> {
  const none = (status: AnsweredRequestStatus) => ({ status, returnTo: null });
  if (browserBinding === undefined) return none('no_login_cookie');
  if (id.length > MAX_SAML_ID_LENGTH) return none('unknown');
  const consumed = await tx
    .deleteFrom('saml_request_ids')
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', idpId)
    .where('id', '=', id)
    .where('browser_binding', '=', browserBinding)
    .returning(['expires_at', 'return_to'])
    .executeTakeFirst();
  if (consumed)
    return consumed.expires_at <= now
      ? none('expired')
      : { status: 'pending', returnTo: consumed.return_to };
  const other = await tx
    .selectFrom('saml_request_ids')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', idpId)
    .where('id', '=', id)
    .executeTakeFirst();
  return none(other ? 'other_browser' : 'unknown');
}

/**
 * Records an assertion id as used; false when it was used before (a replay), on any instance.
 * Atomic: the primary key decides, through INSERT … ON CONFLICT DO NOTHING.
 */
export async function recordAssertionId(
  db: Db | Tx,
  idpId: string,
  assertionId: string,
  expiresAt: Date,
): Promise<boolean> {
  if (assertionId.length > MAX_SAML_ID_LENGTH) return false;
  const row = await db
    .insertInto('saml_assertion_ids')
    .values({ idp_id: idpId, assertion_id: assertionId, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['idp_id', 'assertion_id']).doNothing())
    .returning('assertion_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether an assertion id was used already (to tell a replay apart in a refusal's reason). */
export async function isAssertionIdUsed(
  db: Db | Tx,
  idpId: string,
  assertionId: string,
): Promise<boolean> {
  if (assertionId.length > MAX_SAML_ID_LENGTH) return false;
  const row = await db
    .selectFrom('saml_assertion_ids')
    .select('assertion_id')
    .where('idp_id', '=', idpId)
    .where('assertion_id', '=', assertionId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Deletes expired request ids, assertion ids and sessions; safe on every instance at once. */
export async function pruneSamlState(
  db: Db,
  now: Date,
): Promise<{ requestIds: number; assertionIds: number; sessions: number }> {
  const [requestIds, assertionIds, sessions] = await Promise.all([
    db.deleteFrom('saml_request_ids').where('expires_at', '<=', now).executeTakeFirst(),
    db.deleteFrom('saml_assertion_ids').where('expires_at', '<=', now).executeTakeFirst(),
    pruneExpiredSessions(db, now),
  ]);
  return {
    requestIds: Number(requestIds.numDeletedRows),
    assertionIds: Number(assertionIds.numDeletedRows),
    sessions,
  };
}
