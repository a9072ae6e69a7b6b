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

/** A SCIM bearer token as listed: never its secret, which is shown once at creation. */
export interface ScimToken {
  readonly id: string;
  readonly tenantId: string;
  readonly description: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

export interface IssuedScimToken extends ScimToken {
  /** The bearer secret. Only its SHA-256 is stored; this is the only time it is seen. */
  readonly token: string;
}

// roster_scim_<token id, 32 hex>_<secret, 43 base64url chars>. The id lets us find the row
// without searching by secret; the secret is compared to its stored hash in constant time.
const TOKEN_PATTERN = /^roster_scim_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const MAX_TOKEN_LIFETIME_DAYS = 3650;
/** last_used_at is written at most this often per token, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();
const uuidToHex = (id: string) => id.replaceAll('-', '');
const hexToUuid = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/**
 * Issues a new SCIM token for a tenant. Several may be live at once, for rotation.
 *
 * @example
 * const { token } = await createScimToken(db, 'acme', { expiresAt: null }, ctx);
 * // Authorization: Bearer roster_scim_…
 */
export async function createScimToken(
  db: Db,
  tenantSlug: string,
  options: { expiresAt: Date | null; description?: string },
  context: ChangeContext,
  clock: Clock,
): Promise<IssuedScimToken> {
  const now = clock.now();
  if (options.expiresAt !== null) {
    const days = (options.expiresAt.getTime() - now.getTime()) / 86_400_000;
    if (!(days > 0) || days > MAX_TOKEN_LIFETIME_DAYS) {
      throw invalid(
        `a token must expire in the future and within ${MAX_TOKEN_LIFETIME_DAYS} days`,
        { field: 'expiresAt' },
      );
    }
  }
  if (options.description !== undefined && options.description.length > 200) {
    throw invalid('a token description is at most 200 characters', { field: 'description' });
  }
  const tenant = await getTenantBySlug(db, tenantSlug);
  const secret = randomBytes(32).toString('base64url');
  return inTransaction(db, async (tx) => {
    const row = await tx
      .insertInto('scim_tokens')
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
      action: 'scim_token.created',
      target: { type: 'scim_token', id: row.id },
      changes: { expiresAt: options.expiresAt?.toISOString() ?? null },
    });
    return { ...toScimToken(row), token: `roster_scim_${uuidToHex(row.id)}_${secret}` };
  });
}

export async function listScimTokens(db: Db, tenantSlug: string): Promise<ScimToken[]> {
  const tenant = await getTenantBySlug(db, tenantSlug);
  const rows = await db
    .selectFrom('scim_tokens')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .orderBy('created_at')
    .execute();
  return rows.map(toScimToken);
}

/** Revokes a token at once; revoking one already revoked is a no-op. */
export async function revokeScimToken(
  db: Db,
  tenantSlug: string,
  tokenId: string,
  context: ChangeContext,
  clock: Clock,
): Promise<ScimToken> {
  const tenant = await getTenantBySlug(db, tenantSlug);
  if (!isUuid(tokenId))
    throw notFound(`token "${tokenId}" does not exist in tenant "${tenantSlug}"`);
  return inTransaction(db, async (tx) => {
    const row = await tx
      .selectFrom('scim_tokens')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', tokenId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound(`token "${tokenId}" does not exist in tenant "${tenantSlug}"`);
    if (row.revoked_at) return toScimToken(row);
    const revoked = await tx
      .updateTable('scim_tokens')
      .set({ revoked_at: clock.now() })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(tx, tenant.id, context, {
      action: 'scim_token.revoked',
      target: { type: 'scim_token', id: row.id },
    });
    return toScimToken(revoked);
  });
}

export type ScimAuthentication =
  | { readonly ok: true; readonly tenant: Tenant; readonly tokenId: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/**
 * Checks a presented bearer token against the tenant named in the URL. A token of another
 * tenant is `unknown`, exactly like one that never existed.
 */
export async function authenticateScimToken(
  db: Db,
  tenantSlug: string,
  presented: string,
  clock: Clock,
): Promise<ScimAuthentication> {
  const match = TOKEN_PATTERN.exec(presented);
  const presentedHash = hashSecret(match?.[2] ?? presented);
  const row = match?.[1]
    ? await db
        .selectFrom('scim_tokens')
        .innerJoin('tenants', 'tenants.id', 'scim_tokens.tenant_id')
        .selectAll('scim_tokens')
        .select([
          'tenants.slug',
          'tenants.grace_period_days',
          'tenants.cleanup_after_days',
          'tenants.allowed_origins',
          'tenants.outbox_seq',
          'tenants.created_at as tenant_created_at',
          'tenants.updated_at as tenant_updated_at',
        ])
        .where('scim_tokens.id', '=', hexToUuid(match[1]))
        .executeTakeFirst()
    : undefined;
  // Compare even when there is no row, so timing does not tell a malformed token from a bad secret.
  const stored = row?.secret_hash ?? Buffer.alloc(32);
  const secretMatches = timingSafeEqual(stored, presentedHash) && row !== undefined;
  if (!match) return { ok: false, reason: 'malformed' };
  if (!row || !secretMatches || row.slug !== tenantSlug) return { ok: false, reason: 'unknown' };
  const now = clock.now();
  if (row.revoked_at) return { ok: false, reason: 'revoked' };
  if (row.expires_at && row.expires_at <= now) return { ok: false, reason: 'expired' };
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db
      .updateTable('scim_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .execute();
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

function toScimToken(row: Selectable<ScimTokenTable>): ScimToken {
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
