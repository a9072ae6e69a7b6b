import {
  encodeChangeCursor,
  type AuditEvent,
  type ScimRequestLogEntry,
  type ScimToken,
  type Tenant,
  type UserSummary,
  type Webhook,
  type WebhookAttempt,
} from '@roster/core';

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

/**
 * A webhook (GET /v1/tenants/:slug/webhooks/:id): never its secret. `deliveredThrough` is an
 * events API cursor: `GET …/events?after=<it>` lists what the endpoint is still owed.
 */
export const presentWebhook = (webhook: Webhook) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  format: webhook.format,
  state: webhook.state,
  disabledReason: webhook.disabledReason,
  deliveredThrough: encodeChangeCursor(webhook.tenantId, webhook.deliveredSeq),
  lastDeliveredAt: webhook.lastDeliveredAt?.toISOString() ?? null,
  failingSince: webhook.failingSince?.toISOString() ?? null,
  nextAttemptAt: webhook.nextAttemptAt.toISOString(),
  previousSecretExpiresAt: webhook.previousSecretExpiresAt?.toISOString() ?? null,
  createdAt: webhook.createdAt.toISOString(),
  updatedAt: webhook.updatedAt.toISOString(),
});

/** One attempt to deliver an event (or a ping) to a webhook, as the delivery log lists it. */
export const presentWebhookAttempt = (attempt: WebhookAttempt) => ({
  id: attempt.id,
  eventId: attempt.eventId,
  eventType: attempt.eventType,
  attempt: attempt.attempt,
  attemptedAt: attempt.attemptedAt.toISOString(),
  status: attempt.status,
  latencyMs: attempt.latencyMs,
  error: attempt.error,
  responseExcerpt: attempt.responseExcerpt,
});
