// Events tokens: a read-only credential per tenant for the admin API's events endpoint
// (GET /v1/tenants/:slug/events), so an app can follow a tenant's events without the admin
// token. Stored hashed like SCIM tokens (tenants/tenant-token.ts), in their own table, so
// neither kind is ever accepted in place of the other.
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import {
  createTenantToken,
  identifyTenantToken,
  listTenantTokens,
  revokeTenantToken,
  type IssuedTenantToken,
  type TenantToken,
  type TenantTokenAuthentication,
  type TenantTokenKind,
} from '../tenants/tenant-token.js';

/** What every events token starts with (then 32 hex digits of its id, `_`, its secret). */
export const EVENTS_TOKEN_PREFIX = 'roster_events_';

const EVENTS_TOKENS: TenantTokenKind = {
  table: 'events_tokens',
  prefix: EVENTS_TOKEN_PREFIX,
  auditName: 'events_token',
};

/** An events token as listed: never its secret, which is shown once at creation. */
export type EventsToken = TenantToken;

/** An events token as issued: with its secret, shown this once. */
export type IssuedEventsToken = IssuedTenantToken;

/** Issues a new events token for a tenant. Several may be live at once, for rotation. */
export function createEventsToken(
  db: Db,
  tenantSlug: string,
  options: { expiresAt: Date | null; description?: string },
  context: ChangeContext,
  clock: Clock,
): Promise<IssuedEventsToken> {
  return createTenantToken(EVENTS_TOKENS, db, tenantSlug, options, context, clock);
}

/** A tenant's events tokens, oldest first, revoked and expired ones included. */
export function listEventsTokens(db: Db, tenantSlug: string): Promise<EventsToken[]> {
  return listTenantTokens(EVENTS_TOKENS, db, tenantSlug);
}

/** Revokes an events token at once; revoking one already revoked is a no-op. */
export function revokeEventsToken(
  db: Db,
  tenantSlug: string,
  tokenId: string,
  context: ChangeContext,
  clock: Clock,
): Promise<EventsToken> {
  return revokeTenantToken(EVENTS_TOKENS, db, tenantSlug, tokenId, context, clock);
}

/**
 * Checks a presented events token, whatever its tenant: `tenant` on success is the one it reads.
 * The caller refuses it for any other tenant.
 */
export function identifyEventsToken(
  db: Db,
  presented: string,
  clock: Clock,
): Promise<TenantTokenAuthentication> {
  return identifyTenantToken(EVENTS_TOKENS, db, presented, clock);
}
