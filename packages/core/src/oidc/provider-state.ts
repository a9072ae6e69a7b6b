// The OpenID Provider's own state (oidc-provider's models: sessions, interactions, codes, tokens,
// grants), one row per (tenant, model, id) in oidc_payloads. The SSO app's storage adapter calls
// these; they know nothing of the library beyond the columns it looks things up by.
import { sql } from 'kysely';
import type { Db } from '../db/transaction.js';

/** A model's payload as the library gives and takes it. */
export type ProviderPayload = Record<string, unknown>;

/** The promoted columns of a payload, besides its JSON. */
export interface ProviderRecord {
  readonly model: string;
  readonly id: string;
  readonly payload: ProviderPayload;
  /** The grant it belongs to: revoking the grant deletes it (RFC 7009 §2.1). */
  readonly grantId: string | null;
  /** A session's uid (looked up by it). */
  readonly uid: string | null;
  /** The Roster user it was issued for. */
  readonly accountId: string | null;
  /** Undefined: it never expires. */
  readonly expiresAt: Date | undefined;
}

const live = (db: Db, tenantId: string, model: string) =>
  db
    .selectFrom('oidc_payloads')
    .select(['payload', 'consumed_at'])
    .where('tenant_id', '=', tenantId)
    .where('model', '=', model)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));

/** A payload as stored, with `consumed` (seconds since the epoch) when it was used. */
function payloadOf(
  row: { payload: ProviderPayload; consumed_at: Date | null } | undefined,
): ProviderPayload | undefined {
  if (!row) return undefined;
  return row.consumed_at
    ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
    : row.payload;
}

/** Stores a payload, replacing the one with its id. */
export async function saveProviderRecord(
  db: Db,
  tenantId: string,
  record: ProviderRecord,
): Promise<void> {
  const columns = {
    payload: record.payload,
    grant_id: record.grantId,
    uid: record.uid,
    account_id: record.accountId,
    expires_at: record.expiresAt ?? null,
  };
  await db
    .insertInto('oidc_payloads')
    .values({ tenant_id: tenantId, model: record.model, id: record.id, ...columns })
    .onConflict((oc) => oc.columns(['tenant_id', 'model', 'id']).doUpdateSet(columns))
    .execute();
}

/** A live (unexpired) payload by id. */
export async function findProviderRecord(
  db: Db,
  tenantId: string,
  model: string,
  id: string,
): Promise<ProviderPayload | undefined> {
  return payloadOf(await live(db, tenantId, model).where('id', '=', id).executeTakeFirst());
}

/** A live session payload by its uid. */
export async function findProviderRecordByUid(
  db: Db,
  tenantId: string,
  model: string,
  uid: string,
): Promise<ProviderPayload | undefined> {
  return payloadOf(await live(db, tenantId, model).where('uid', '=', uid).executeTakeFirst());
}

/** Deletes one payload. */
export async function deleteProviderRecord(
  db: Db,
  tenantId: string,
  model: string,
  id: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('tenant_id', '=', tenantId)
    .where('model', '=', model)
    .where('id', '=', id)
    .execute();
}

/** Deletes a model's payloads of one grant. */
export async function deleteProviderGrantRecords(
  db: Db,
  tenantId: string,
  model: string,
  grantId: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('tenant_id', '=', tenantId)
    .where('model', '=', model)
    .where('grant_id', '=', grantId)
    .execute();
}

/**
 * Marks a one-time payload (an authorization code) used, atomically: of two concurrent
 * redemptions exactly one gets 'consumed'. The other gets 'already_consumed', and everything of
 * the code's grant is deleted, so what the first redemption issued stops working too
 * (RFC 6749 §4.1.2: a code used twice revokes what it gave).
 */
export async function consumeProviderRecord(
  db: Db,
  tenantId: string,
  model: string,
  id: string,
): Promise<'consumed' | 'already_consumed'> {
  const won = await db
    .updateTable('oidc_payloads')
    .set({ consumed_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .returning('grant_id')
    .executeTakeFirst();
  if (won) return 'consumed';
  const lost = await db
    .selectFrom('oidc_payloads')
    .select('grant_id')
    .where('tenant_id', '=', tenantId)
    .where('model', '=', model)
    .where('id', '=', id)
    .executeTakeFirst();
  if (lost?.grant_id) {
    await db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', tenantId)
      .where('grant_id', '=', lost.grant_id)
      .execute();
  }
  return 'already_consumed';
}
