import type { AuditEvent, ScimRequestLogEntry, ScimToken, Tenant, UserSummary } from '@roster/core';

/** JSON shapes of the admin API (documented in the README). Dates are ISO strings. */
export interface Urls {
  readonly scimBaseUrl: (slug: string) => string;
  readonly ssoBaseUrl: string;
}

export const presentTenant = (tenant: Tenant, urls: Urls) => ({
  id: tenant.id,
  slug: tenant.slug,
  scimBaseUrl: urls.scimBaseUrl(tenant.slug),
  gracePeriodDays: tenant.gracePeriodDays,
  cleanupAfterDays: tenant.cleanupAfterDays,
  allowedOrigins: tenant.allowedOrigins,
  createdAt: tenant.createdAt.toISOString(),
  updatedAt: tenant.updatedAt.toISOString(),
});

export const presentToken = (token: ScimToken, now: Date) => ({
  id: token.id,
  description: token.description,
  status: token.revokedAt
    ? 'revoked'
    : token.expiresAt && token.expiresAt <= now
      ? 'expired'
      : 'active',
  createdAt: token.createdAt.toISOString(),
  expiresAt: token.expiresAt?.toISOString() ?? null,
  lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  revokedAt: token.revokedAt?.toISOString() ?? null,
});

export const presentUser = (user: UserSummary) => ({
  id: user.id,
  userName: user.userName,
  externalId: user.externalId,
  displayName: user.displayName,
  state: user.state,
  source: user.source,
  managedBy: user.managedBy,
  lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
  purgeAfter: user.purgeAfter?.toISOString() ?? null,
  createdAt: user.createdAt.toISOString(),
});

export const presentAuditEvent = (event: AuditEvent) => ({
  id: event.id,
  occurredAt: event.occurredAt.toISOString(),
  actor: event.actor,
  action: event.action,
  target: event.target,
  requestId: event.requestId,
  changes: event.changes,
});

/** One logged SCIM request (GET /v1/tenants/:slug/scim-log); bodies are stored redacted. */
export const presentScimRequest = (entry: ScimRequestLogEntry) => ({
  id: entry.id,
  occurredAt: entry.occurredAt.toISOString(),
  requestId: entry.requestId,
  method: entry.method,
  path: entry.path,
  status: entry.status,
  durationMs: entry.durationMs,
  tokenId: entry.tokenId,
  userAgent: entry.userAgent,
  requestBody: entry.requestBody,
  responseBody: entry.responseBody,
});
