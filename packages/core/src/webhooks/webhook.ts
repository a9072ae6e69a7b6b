// A tenant's webhook endpoints as the rest of Roster sees them: the domain types, the limits,
// the checks of what an operator types, and the one row-to-type mapping. The signing secret
// never leaves this folder except once, when it is issued.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Selectable } from 'kysely';
import type { Clock } from '../clock.js';
import type { WebhookAttemptTable, WebhookEndpointTable, WebhookFormat } from '../db/database.js';
import { WEBHOOK_FORMATS } from '../db/database.js';
import { invalid } from '../errors.js';
import { EVENT_TYPES, parseEventTypes, type EventType } from '../events/event.js';
import { isStorableText } from '../input-limits.js';
import type { DeliveryAttempt } from '../outbound/deliveries.js';
import { internalAddressKind, type OutboundPolicy } from '../outbound/outbound-policy.js';

export { WEBHOOK_FORMATS, type WebhookFormat } from '../db/database.js';

/** A webhook endpoint of a tenant, without its secrets. */
export interface Webhook {
  readonly id: string;
  readonly tenantId: string;
  readonly url: string;
  /** The event types sent; empty = every type, those added later included. */
  readonly events: readonly EventType[];
  readonly format: WebhookFormat;
  readonly state: 'enabled' | 'disabled';
  /** Why it is disabled: `operator`, `failing` (retried for too long) or `gone` (HTTP 410). */
  readonly disabledReason: string | null;
  /** Every event up to this seq was delivered (or was not of its types). */
  readonly deliveredSeq: number;
  readonly lastDeliveredAt: Date | null;
  /** Since when the event at the head of its queue has been failing; null when it is not. */
  readonly failingSince: Date | null;
  readonly nextAttemptAt: Date;
  /** Until when the secret before the last rotation still signs beside the new one. */
  readonly previousSecretExpiresAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A webhook with its signing secret (`whsec_...`), returned once: at creation and rotation. */
export interface IssuedWebhook {
  readonly webhook: Webhook;
  readonly secret: string;
}

/** One attempt to send an event (or a ping) to an endpoint: a delivery attempt, of an event. */
export interface WebhookAttempt extends DeliveryAttempt {
  readonly id: number;
  readonly eventId: string;
  /** An event type, or `ping`. */
  readonly eventType: string;
}

/** What an operator gives to add (or, partly, to change) a webhook. */
export interface WebhookInput {
  url: string;
  /** Event types or patterns (`user.*`, `*`); absent or empty = every type. */
  events?: readonly string[];
  /** Default `standard`. */
  format?: WebhookFormat;
}

/** What changing calls may take besides their input. */
export interface WebhookChangeOptions {
  /** Where "now" comes from (default the system clock). */
  readonly clock?: Clock;
  /**
   * With it, a URL whose host is an IP address the policy refuses (loopback, private, metadata,
   * ... unless listed in ROSTER_OUTBOUND_ALLOW_HOSTS) is `Invalid` at once. Without it, and for
   * host names in every case, the refusal happens at delivery, after DNS.
   */
  readonly policy?: OutboundPolicy;
}

/** Longest webhook URL, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Most event types or patterns one webhook lists. */
export const MAX_WEBHOOK_EVENT_PATTERNS = 50;
/** Longest event type pattern, in characters. */
export const MAX_WEBHOOK_EVENT_PATTERN_LENGTH = 64;
/** Most webhooks one tenant may have. */
export const MAX_WEBHOOKS_PER_TENANT = 50;
/**
 * Random bytes of a signing secret. The Standard Webhooks specification asks for 24 to 64; the
 * secret is `whsec_` and their base64.
 */
export const WEBHOOK_SECRET_BYTES = 32;
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** A fresh signing secret: `whsec_` and base64 of {@link WEBHOOK_SECRET_BYTES} random bytes. */
export const newWebhookSecret = (): string =>
  `${WEBHOOK_SECRET_PREFIX}${randomBytes(WEBHOOK_SECRET_BYTES).toString('base64')}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` could name a row (anything else is simply not found, never a database error). */
export const isWebhookId = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);

/**
 * Checks a webhook URL: absolute http(s), at most {@link MAX_WEBHOOK_URL_LENGTH} characters, no
 * user name or password (they would be sent to whoever answers), no fragment. With a policy, a
 * literal IP address it refuses is refused here too.
 */
export function checkWebhookUrl(value: unknown, policy?: OutboundPolicy): string {
  const field = 'url';
  if (typeof value !== 'string' || value.length === 0)
    throw invalid('url must be an http or https URL', { field });
  if (value.length > MAX_WEBHOOK_URL_LENGTH)
    throw invalid(`url is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`, { field });
  let url: URL | null;
  try {
    url = isStorableText(value) ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw invalid('url must be an absolute http or https URL', { field });
  if (url.username !== '' || url.password !== '')
    throw invalid('url must not contain a user name or password', { field });
  if (url.hash !== '' || value.includes('#'))
    throw invalid('url must not contain a fragment (#...)', { field });
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (policy && isIP(host) !== 0 && !policy.isAllowedAddress(host))
    throw invalid(
      `url points at a ${internalAddressKind(host) ?? 'refused'} address; list it in ROSTER_OUTBOUND_ALLOW_HOSTS to allow it`,
      { field },
    );
  return value;
}

/**
 * Checks and expands the event types of a webhook. Stored expanded; a list that covers every
 * type is stored empty, so that types added later reach it too.
 */
export function checkWebhookEvents(value: unknown): EventType[] {
  const field = 'events';
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('events must be a list of event types', { field });
  if (value.length > MAX_WEBHOOK_EVENT_PATTERNS)
    throw invalid(`events lists more than ${MAX_WEBHOOK_EVENT_PATTERNS} types`, { field });
  for (const pattern of value)
    if (typeof pattern !== 'string' || pattern.length > MAX_WEBHOOK_EVENT_PATTERN_LENGTH)
      throw invalid(
        `each of events is an event type of at most ${MAX_WEBHOOK_EVENT_PATTERN_LENGTH} characters`,
        { field },
      );
  if (value.length === 0) return [];
  const types = parseEventTypes(value as string[]);
  return types.length === EVENT_TYPES.length ? [] : types;
}

/** Checks a webhook's format. */
export function checkWebhookFormat(value: unknown): WebhookFormat {
  if (value === undefined) return 'standard';
  if (typeof value !== 'string' || !(WEBHOOK_FORMATS as readonly string[]).includes(value))
    throw invalid(`format must be one of ${WEBHOOK_FORMATS.join(', ')}`, { field: 'format' });
  return value as WebhookFormat;
}

export type WebhookRow = Selectable<WebhookEndpointTable>;

/** The one mapping from a row to a {@link Webhook}: the secrets stay behind. */
export function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    events: row.event_types.filter((type): type is EventType =>
      (EVENT_TYPES as readonly string[]).includes(type),
    ),
    format: row.format,
    state: row.state,
    disabledReason: row.disabled_reason,
    deliveredSeq: Number(row.delivered_seq),
    lastDeliveredAt: row.last_delivered_at,
    failingSince: row.failing_since,
    nextAttemptAt: row.next_attempt_at,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toWebhookAttempt(row: Selectable<WebhookAttemptTable>): WebhookAttempt {
  return {
    id: Number(row.id),
    eventId: row.event_id,
    eventType: row.event_type,
    attempt: row.attempt,
    attemptedAt: row.attempted_at,
    status: row.status,
    latencyMs: row.latency_ms,
    error: row.error,
    responseExcerpt: row.response_excerpt,
  };
}

/**
 * The secrets that sign a request at `now`: the current one, and the previous one during the
 * overlap after a rotation.
 */
export function signingSecrets(row: WebhookRow, now: Date): string[] {
  const previousValid =
    row.previous_secret !== null &&
    row.previous_secret_expires_at !== null &&
    row.previous_secret_expires_at.getTime() > now.getTime();
  return previousValid ? [row.secret, row.previous_secret as string] : [row.secret];
}
