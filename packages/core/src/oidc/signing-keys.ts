// A tenant's ID token and logout token signing keys, kept in the database so that every instance
// signs with the same key. Three states: 'next' (published, not yet signing), 'current' (signs)
// and 'retired' (published, no longer signing). A relying party that caches the JWKS knows the
// next key before it signs, and still finds the retired one while its tokens live
// (OIDC Core §10.1.1: rotate by publishing first).
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { systemClock, type Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { OidcSigningKeyTable, SigningKeyStatus } from '../db/database.js';
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { notFound, sqlState } from '../errors.js';

/** The tenant's keys, private parts included: current first, then next, then retired. */
export interface SigningKeySet {
  /** Changes whenever a key is added, promoted, retired or dropped (a cache key). */
  readonly version: string;
  readonly keys: JWK[];
}

/** One key as an operator sees it: its public part and where it is in the rotation. */
export interface SigningKeyInfo {
  readonly kid: string;
  readonly status: SigningKeyStatus;
  readonly publicJwk: JWK;
  readonly createdAt: Date;
  readonly promotedAt: Date | null;
  readonly retiredAt: Date | null;
}

/** The signing algorithm of every key (RS256: what every OIDC client supports, Core §15.1). */
export const SIGNING_ALGORITHM = 'RS256';
/** RSA modulus length in bits (NIST SP 800-57: 2048 is good beyond 2030). */
export const SIGNING_KEY_BITS = 2048;
/** Retired keys kept published after a rotation; older ones are deleted. */
export const MAX_RETIRED_SIGNING_KEYS = 2;

const STATUS_ORDER: Record<SigningKeyStatus, number> = { current: 0, next: 1, retired: 2 };
/** The members of a private RSA JWK that a public JWK never has (RFC 7518 §6.3.2). */
const PUBLIC_RSA_MEMBERS = ['kty', 'n', 'e'] as const;

type SigningKeyRow = Selectable<OidcSigningKeyTable>;

/** A new RSA key as a private JWK with its kid (the JWK thumbprint, RFC 7638), alg and use. */
async function generateSigningKey(): Promise<JWK & { kid: string }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, {
    extractable: true,
    modulusLength: SIGNING_KEY_BITS,
  });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
}

/** Newest state first within a status, so the newest retired key comes before older ones. */
function sortForSet(rows: SigningKeyRow[]): SigningKeyRow[] {
  const time = (row: SigningKeyRow) =>
    (row.retired_at ?? row.promoted_at ?? row.created_at).getTime();
  return [...rows].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      time(b) - time(a) ||
      a.kid.localeCompare(b.kid),
  );
}

function toKeySet(rows: SigningKeyRow[]): SigningKeySet {
  const sorted = sortForSet(rows);
  const version = createHash('sha256')
    .update(sorted.map((row) => `${row.kid}:${row.status}`).join(','))
    .digest('base64url')
    .slice(0, 22);
  const keys = sorted.map((row): JWK => {
    const jwk = { ...(row.private_jwk as JWK), kid: row.kid, alg: SIGNING_ALGORITHM, use: 'sig' };
    // Only the current key signs; the others are there to verify (RFC 7517 §4.3).
    return row.status === 'current' ? jwk : { ...jwk, key_ops: ['verify'] };
  });
  return { version, keys };
}

async function readKeyRows(db: Db | Tx, tenantId: string): Promise<SigningKeyRow[]> {
  return db.selectFrom('oidc_signing_keys').selectAll().where('tenant_id', '=', tenantId).execute();
}

const hasStatus = (rows: SigningKeyRow[], status: SigningKeyStatus) =>
  rows.some((row) => row.status === status);

/**
 * Adds the current and next keys a tenant lacks. Concurrent callers each insert theirs with
 * ON CONFLICT DO NOTHING on the one-per-status index: the first commit wins, the others'
 * keys are dropped, and everyone re-reads the winner's.
 */
async function createMissingKeys(db: Db, tenantId: string, rows: SigningKeyRow[], now: Date) {
  const missing = (['current', 'next'] as const).filter((status) => !hasStatus(rows, status));
  if (missing.length === 0) return;
  const generated = await Promise.all(missing.map(() => generateSigningKey()));
  try {
    await db
      .insertInto('oidc_signing_keys')
      .values(
        missing.map((status, index) => {
          const jwk = generated[index] as JWK & { kid: string };
          return {
            tenant_id: tenantId,
            kid: jwk.kid,
            status,
            private_jwk: JSON.stringify(jwk),
            created_at: now,
            promoted_at: status === 'current' ? now : null,
          };
        }),
      )
      .onConflict((conflict) =>
        conflict
          .columns(['tenant_id', 'status'])
          .where('status', 'in', ['current', 'next'])
          .doNothing(),
      )
      .execute();
  } catch (error) {
    // 23503: no such tenant.
    if (sqlState(error) === '23503') throw notFound('the tenant does not exist');
    throw error;
  }
}

/**
 * The tenant's signing keys, private parts included, for the OpenID Provider. The first call
 * for a tenant creates its current and next key; concurrent first calls agree on one pair.
 *
 * @example
 * const keys = await loadSigningKeys(db, tenant.id);
 * // keys.keys[0] signs; publicJwks(keys) is the JWKS document
 */
export async function loadSigningKeys(
  db: Db,
  tenantId: string,
  clock: Clock = systemClock,
): Promise<SigningKeySet> {
  let rows = await readKeyRows(db, tenantId);
  if (!hasStatus(rows, 'current') || !hasStatus(rows, 'next')) {
    await createMissingKeys(db, tenantId, rows, clock.now());
    rows = await readKeyRows(db, tenantId);
  }
  return toKeySet(rows);
}

/** The public part of one key, with its kid, alg and use: never d, p, q, dp, dq or qi. */
function publicJwk(jwk: JWK): JWK {
  const result: JWK = {};
  for (const member of PUBLIC_RSA_MEMBERS) {
    const value = jwk[member];
    if (typeof value === 'string') result[member] = value;
  }
  if (jwk.kid !== undefined) result.kid = jwk.kid;
  result.alg = SIGNING_ALGORITHM;
  result.use = 'sig';
  return result;
}

/** The JWKS document of a key set (RFC 7517 §5): public parts only, in the set's order. */
export function publicJwks(keys: SigningKeySet): { keys: JWK[] } {
  return { keys: keys.keys.map(publicJwk) };
}

/** The tenant's keys with their status, public parts only (what `roster oidc keys` lists). */
export async function listSigningKeys(db: Db, tenantId: string): Promise<SigningKeyInfo[]> {
  const rows = sortForSet(await readKeyRows(db, tenantId));
  return rows.map((row) => ({
    kid: row.kid,
    status: row.status,
    publicJwk: publicJwk({ ...(row.private_jwk as JWK), kid: row.kid }),
    createdAt: row.created_at,
    promotedAt: row.promoted_at,
    retiredAt: row.retired_at,
  }));
}

/**
 * Rotates a tenant's keys: the current key retires (still published), the next one signs, and a
 * new next key is published. Keeps the newest {@link MAX_RETIRED_SIGNING_KEYS} retired keys.
 * Rotations of one tenant run one after the other (a lock on the tenant's row).
 */
export async function rotateSigningKeys(
  db: Db,
  tenantId: string,
  context: ChangeContext,
  clock: Clock = systemClock,
): Promise<{ current: string; next: string; retired: string[] }> {
  // Make sure there is a pair to rotate (a tenant's first rotation may come before any sign-in).
  await loadSigningKeys(db, tenantId, clock);
  const fresh = await generateSigningKey();
  return inTransaction(db, async (tx) => {
    // Lock the tenant row rather than the key rows: a waiting rotation must then read the keys
    // the one before it inserted. FOR NO KEY UPDATE leaves inserts that reference the tenant free.
    const tenant = await tx
      .selectFrom('tenants')
      .select('id')
      .where('id', '=', tenantId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!tenant) throw notFound('the tenant does not exist');
    const rows = await readKeyRows(tx, tenantId);
    const current = rows.find((row) => row.status === 'current');
    const next = rows.find((row) => row.status === 'next');
    if (!current || !next) throw new Error('a tenant with keys has a current and a next key');
    const now = clock.now();
    // Order matters for the one-per-status index: free 'current' before promoting into it.
    await setStatus(tx, tenantId, current.kid, { status: 'retired', retired_at: now });
    await setStatus(tx, tenantId, next.kid, { status: 'current', promoted_at: now });
    await tx
      .insertInto('oidc_signing_keys')
      .values({
        tenant_id: tenantId,
        kid: fresh.kid,
        status: 'next',
        private_jwk: JSON.stringify(fresh),
        created_at: now,
      })
      .execute();
    const retired = sortForSet(
      rows
        .filter((row) => row.status === 'retired')
        .concat({ ...current, status: 'retired', retired_at: now }),
    );
    const kept = retired.slice(0, MAX_RETIRED_SIGNING_KEYS).map((row) => row.kid);
    const dropped = retired.slice(MAX_RETIRED_SIGNING_KEYS).map((row) => row.kid);
    if (dropped.length > 0) {
      await tx
        .deleteFrom('oidc_signing_keys')
        .where('tenant_id', '=', tenantId)
        .where('kid', 'in', dropped)
        .execute();
    }
    const result = { current: next.kid, next: fresh.kid, retired: kept };
    await recordAudit(tx, tenantId, context, {
      action: 'oidc.keys_rotated',
      target: { type: 'oidc_signing_key', id: next.kid },
      changes: { ...result, deleted: dropped },
    });
    return result;
  });
}

async function setStatus(
  tx: Tx,
  tenantId: string,
  kid: string,
  change: { status: SigningKeyStatus; retired_at?: Date; promoted_at?: Date },
): Promise<void> {
  await tx
    .updateTable('oidc_signing_keys')
    .set(change)
    .where('tenant_id', '=', tenantId)
    .where('kid', '=', kid)
    .execute();
}
