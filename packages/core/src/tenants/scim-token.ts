// SCIM bearer tokens: what an IdP provisions a tenant with (Authorization: Bearer roster_scim_…).
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import {
  authenticateTenantToken,
  createTenantToken,
  listTenantTokens,
  revokeTenantToken,
  type IssuedTenantToken,
  type TenantToken,
  type TenantTokenAuthentication,
  type TenantTokenKind,
} from './tenant-token.js';

/** A SCIM bearer token as listed: never its secret, which is shown once at creation. */
export type ScimToken = TenantToken;

export type IssuedScimToken = IssuedTenantToken;

export type ScimAuthentication = TenantTokenAuthentication;

const SCIM_TOKENS: TenantTokenKind = {
  table: 'scim_tokens',
  prefix: 'roster_scim_',
  auditName: 'scim_token',
};

/**
 * Issues a new SCIM token for a tenant. Several may be live at once, for rotation.
 *
 * @example
 * const { token } = await createScimToken(db, 'acme', { expiresAt: null }, ctx);
 * // Authorization: Bearer roster_scim_…
 */
export function createScimToken(
  db: Db,
  tenantSlug: string,
  options: { expiresAt: Date | null; description?: string },
  context: ChangeContext,
  clock: Clock,
): Promise<IssuedScimToken> {
  return createTenantToken(SCIM_TOKENS, db, tenantSlug, options, context, clock);
}

export function listScimTokens(db: Db, tenantSlug: string): Promise<ScimToken[]> {
  return listTenantTokens(SCIM_TOKENS, db, tenantSlug);
}

/** Revokes a token at once; revoking one already revoked is a no-op. */
export function revokeScimToken(
  db: Db,
  tenantSlug: string,
  tokenId: string,
  context: ChangeContext,
  clock: Clock,
): Promise<ScimToken> {
  return revokeTenantToken(SCIM_TOKENS, db, tenantSlug, tokenId, context, clock);
}

/**
 * Checks a presented bearer token against the tenant named in the URL. A token of another
 * tenant is `unknown`, exactly like one that never existed.
 */
export function authenticateScimToken(
  db: Db,
  tenantSlug: string,
  presented: string,
  clock: Clock,
): Promise<ScimAuthentication> {
  return authenticateTenantToken(SCIM_TOKENS, db, tenantSlug, presented, clock);
}
