// Long-lived bearer tokens a tenant hands to a machine: SCIM tokens (what an IdP provisions with)
// and events tokens (what an app reads the events API with). Both are issued, listed, revoked and
// checked the same way; only their table, their prefix and their audit names differ, so a token of
// one kind is never accepted where the other is asked for.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { ScimTokenTable } from '../db/database.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { invalid, notFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { getTenantBySlug, toTenant } from './tenant.repository.js';
import type { Tenant } from './tenant.js';

/** A tenant's bearer token as listed: never its secret, which is shown once at creation. */
export interface TenantToken {
  readonly id: string;
  readonly tenantId: string;
  readonly description: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export interface IssuedTenantToken extends TenantToken {
  /** The bearer secret. Only its SHA-256 is stored; this is the only time it is seen. */
  readonly token: string;
}

export type TenantTokenAuthentication =
  | { readonly ok: true; readonly tenant: Tenant; readonly tokenId: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/** Which tokens: the table they live in (both have the same columns) and how they are named. */
export interface TenantTokenKind {
  readonly table: 'scim_tokens' | 'events_tokens';
  /** `roster_scim_`, `roster_events_`: what a token starts with. */
  readonly prefix: string;
  /** The audit target type and action prefix (`scim_token` gives `scim_token.created`). */
  readonly auditName: string;
}

/** The longest lifetime a token may be given. */
export const MAX_TENANT_TOKEN_LIFETIME_DAYS = 3650;
/** The longest description a token may carry. */
export const MAX_TENANT_TOKEN_DESCRIPTION_LENGTH = 200;
/** last_used_at is written at most this often per token, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();
const uuidToHex = (id: string) => id.replaceAll('-', '');
const hexToUuid = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
// Both tables have the same columns; kysely is given one name so the row type is one type.
const tableOf = (kind: TenantTokenKind) => kind.table as 'scim_tokens';

// <prefix><token id, 32 hex>_<secret, 43 base64url chars>. The id lets us find the row without
// searching by secret; the secret is compared to its stored hash in constant time.
const tokenPattern = (kind: TenantTokenKind) =>
  new RegExp(`^${kind.prefix}([0-9a-f]{32})_([A-Za-z0-9_-]{43})$`);

/** Issues a new token of this kind for a tenant. Several may be live at once, for rotation. */
export async function createTenantToken(
  kind: TenantTokenKind,
  db: Db,
  tenantSlug: string,
  options: { expiresAt: Date | null; description?: string },
  context: ChangeContext,
  clock: Clock,
): Promise<IssuedTenantToken> {
  const now = clock.now();
  if (options.expiresAt !== null) {
    const days = (options.expiresAt.getTime() - now.getTime()) / 86_400_000;
    if (!(days > 0) || days > MAX_TENANT_TOKEN_LIFETIME_DAYS) {
      throw invalid(
        `a token must expire in the future and within ${MAX_TENANT_TOKEN_LIFETIME_DAYS} days`,
        { field: 'expiresAt' },
      );
    }
  }
  if (
    options.description !== undefined &&
    options.description.length > MAX_TENANT_TOKEN_DESCRIPTION_LENGTH
  ) {
    throw invalid(
      `a token description is at most ${MAX_TENANT_TOKEN_DESCRIPTION_LENGTH} characters`,
      { field: 'description' },
    );
  }
  const tenant = await getTenantBySlug(db, tenantSlug);
  const secret = randomBytes(32).toString('base64url');
  return inTransaction(db, async (tx) => {
    const row = await tx
      .insertInto(tableOf(kind))
      .values({
        tenant_id: tenant.id,
        secret_hash: hashSecret(secret),
        description: options.description ?? null,
        created_at: now,
        expires_at: options.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx, tenant.id, context, {
      action: `${kind.auditName}.created`,
      target: { type: kind.auditName, id: row.id },
      changes: { expiresAt: options.expiresAt?.toISOString() ?? null },
    });
    return { ...toTenantToken(row), token: `${kind.prefix}${uuidToHex(row.id)}_${secret}` };
  });
}

/** A tenant's tokens of this kind, oldest first, revoked and expired ones included. */
export async function listTenantTokens(
  kind: TenantTokenKind,
  db: Db,
  tenantSlug: string,
): Promise<TenantToken[]> {
  const tenant = await getTenantBySlug(db, tenantSlug);
  const rows = await db
    .selectFrom(tableOf(kind))
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .orderBy('created_at')
    .execute();
  return rows.map(toTenantToken);
}

/** Revokes a token at once; revoking one already revoked is a no-op. */
export async function revokeTenantToken(
  kind: TenantTokenKind,
  db: Db,
  tenantSlug: string,
  tokenId: string,
  context: ChangeContext,
  clock: Clock,
): Promise<TenantToken> {
  const tenant = await getTenantBySlug(db, tenantSlug);
  const missing = () => notFound(`token "${tokenId}" does not exist in tenant "${tenantSlug}"`);
  if (!isUuid(tokenId)) throw missing();
  return inTransaction(db, async (tx) => {
    const row = await tx
      .selectFrom(tableOf(kind))
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', tokenId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw missing();
    if (row.revoked_at) return toTenantToken(row);
    const revoked = await tx
      .updateTable(tableOf(kind))
      .set({ revoked_at: clock.now() })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx, tenant.id, context, {
      action: `${kind.auditName}.revoked`,
      target: { type: kind.auditName, id: row.id },
    });
    return toTenantToken(revoked);
  });
}

/**
 * Checks a presented bearer token against the tenant named in the URL. A token of another
 * tenant is `unknown`, exactly like one that never existed.
 */
export function authenticateTenantToken(
  kind: TenantTokenKind,
  db: Db,
  tenantSlug: string,
  presented: string,
  clock: Clock,
): Promise<TenantTokenAuthentication> {
  return verifyTenantToken(kind, db, presented, clock, tenantSlug);
}

/**
 * Checks a presented bearer token of this kind, whatever its tenant: the caller compares the
 * tenant it answers with to the one it serves (to refuse another tenant's token with a 403).
 */
export function identifyTenantToken(
  kind: TenantTokenKind,
  db: Db,
  presented: string,
  clock: Clock,
): Promise<TenantTokenAuthentication> {
  return verifyTenantToken(kind, db, presented, clock, undefined);
}

async function verifyTenantToken(
  kind: TenantTokenKind,
  db: Db,
  presented: string,
  clock: Clock,
  tenantSlug: string | undefined,
): Promise<TenantTokenAuthentication> {
  const match = tokenPattern(kind).exec(presented);
  const presentedHash = hashSecret(match?.[2] ?? presented);
  const table = tableOf(kind);
  const row = match?.[1]
    ? await db
        .selectFrom(table)
        .innerJoin('tenants', 'tenants.id', `${table}.tenant_id`)
        .selectAll(table)
        .select([
          'tenants.slug',
          'tenants.grace_period_days',
          'tenants.cleanup_after_days',
          'tenants.allowed_origins',
          'tenants.outbox_seq',
          'tenants.created_at as tenant_created_at',
          'tenants.updated_at as tenant_updated_at',
        ])
        .where(`${table}.id`, '=', hexToUuid(match[1]))
        .executeTakeFirst()
    : undefined;
  // Compare even when there is no row, so timing does not tell a malformed token from a bad secret.
  const stored = row?.secret_hash ?? Buffer.alloc(32);
  const secretMatches = timingSafeEqual(stored, presentedHash) && row !== undefined;
  if (!match) return { ok: false, reason: 'malformed' };
  if (!row || !secretMatches) return { ok: false, reason: 'unknown' };
  if (tenantSlug !== undefined && row.slug !== tenantSlug) return { ok: false, reason: 'unknown' };
  const now = clock.now();
  if (row.revoked_at) return { ok: false, reason: 'revoked' };
  if (row.expires_at && row.expires_at <= now) return { ok: false, reason: 'expired' };
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.updateTable(table).set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  const tenant = toTenant({
    id: row.tenant_id,
    slug: row.slug,
    grace_period_days: row.grace_period_days,
    cleanup_after_days: row.cleanup_after_days,
    allowed_origins: row.allowed_origins,
    outbox_seq: row.outbox_seq,
    created_at: row.tenant_created_at,
    updated_at: row.tenant_updated_at,
  });
  return { ok: true, tenant, tokenId: row.id };
}

function toTenantToken(row: Selectable<ScimTokenTable>): TenantToken {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    description: row.description,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
