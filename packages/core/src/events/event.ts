// Events: the outbox (changes/outbox.ts) as apps outside Roster see it. Every outbox row whose
// kind names something an app acts on is one event; its id is derived from the row's place in
// its tenant (tenant id and seq), so the events API, the webhooks and the change feed all give
// the same event the same id, and no write pays for storing one.
import { readChangesAfter, type StoredChange } from '../changes/outbox.js';
import type { Db } from '../db/transaction.js';
import { gone, invalid } from '../errors.js';
import { eventsPrunedSeq } from './retention.js';

/** The event types, in the order the README documents them. */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deprovisioned',
  'user.restored',
  'user.purged',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.members_added',
  'group.members_removed',
  'session.ended',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The version of every event body; a change that is not purely additive bumps it. */
export const EVENT_VERSION = 1;

/**
 * Which outbox kinds are which event. An outbox kind missing here is not an event
 * (`user.signed_in` changes nothing an app keeps).
 */
const EVENT_TYPE_OF_KIND: Readonly<Record<string, EventType>> = {
  'user.created': 'user.created',
  // A JIT user taken over by SCIM, a SCIM PUT, a sign-in that refreshed attributes: the same
  // person, changed.
  'user.adopted': 'user.updated',
  'user.replaced': 'user.updated',
  'user.updated': 'user.updated',
  'user.refreshed_by_sign_in': 'user.updated',
  'user.deactivated': 'user.deactivated',
  'user.reactivated': 'user.reactivated',
  'user.deprovisioned': 'user.deprovisioned',
  'user.restored': 'user.restored',
  'user.purged': 'user.purged',
  'group.created': 'group.created',
  'group.updated': 'group.updated',
  'group.deleted': 'group.deleted',
  'group.members_added': 'group.members_added',
  'group.members_removed': 'group.members_removed',
  'session.ended': 'session.ended',
};

/** The event type of an outbox kind, or undefined where the change is not an event. */
export function eventTypeOfChange(kind: string): EventType | undefined {
  return Object.hasOwn(EVENT_TYPE_OF_KIND, kind) ? EVENT_TYPE_OF_KIND[kind] : undefined;
}

/** The outbox kinds that make events of these types. */
export function changeKindsOf(types: readonly EventType[]): string[] {
  return Object.entries(EVENT_TYPE_OF_KIND)
    .filter(([, type]) => types.includes(type))
    .map(([kind]) => kind);
}

/** One event of a tenant, as the events API and the webhooks carry it. */
export interface RosterEvent {
  /** `evt_` and 44 hex digits: stable, unique across tenants, ordered within one. */
  readonly id: string;
  readonly type: EventType;
  readonly version: typeof EVENT_VERSION;
  /** The position in the tenant's sequence (what cursors are made of). */
  readonly seq: number;
  readonly occurredAt: Date;
  /** What changed and the resource after the change (its id where it is gone); never a secret. */
  readonly data: Readonly<Record<string, unknown>>;
}

const SEQ_HEX_DIGITS = 12;

/** The id of the tenant's event at `seq`. */
export function eventId(tenantId: string, seq: number): string {
  return `evt_${tenantId.replaceAll('-', '')}${seq.toString(16).padStart(SEQ_HEX_DIGITS, '0')}`;
}

/** The tenant and seq an event id names; throws `Invalid` for anything else. */
export function parseEventId(id: string): { tenantId: string; seq: number } {
  const match = /^evt_([0-9a-f]{32})([0-9a-f]{12})$/.exec(id);
  if (!match?.[1] || !match[2]) throw invalid('not an event id', { field: 'eventId' });
  const hex = match[1];
  const tenantId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { tenantId, seq: Number.parseInt(match[2], 16) };
}

/** The event an outbox row makes, or undefined where the row is not an event. */
export function eventOfChange(tenantId: string, change: StoredChange): RosterEvent | undefined {
  const type = eventTypeOfChange(change.kind);
  if (!type) return undefined;
  return {
    id: eventId(tenantId, change.seq),
    type,
    version: EVENT_VERSION,
    seq: change.seq,
    occurredAt: change.occurredAt,
    data: eventData(type, change),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The body of an event: only the fields its schema documents (docs/events/), picked from what
 * the write site put in the outbox row (events/payloads.ts), never the change feed's hints. Rows
 * written before the outbox carried resources hold only hints: the body then names the entity by
 * id, and `changed` is empty.
 */
function eventData(type: EventType, change: StoredChange): Record<string, unknown> {
  const { payload, entityId } = change;
  const resource = (key: 'user' | 'group') => {
    const value = payload[key];
    return isRecord(value) ? value : { id: entityId };
  };
  const changed = isRecord(payload.changed) ? payload.changed : {};
  const reason = typeof payload.reason === 'string' ? { reason: payload.reason } : {};
  switch (type) {
    case 'session.ended':
      return {
        session: { id: entityId },
        user: isRecord(payload.user) ? { id: payload.user.id } : null,
        reason: payload.reason ?? null,
      };
    case 'group.members_added':
    case 'group.members_removed':
      return {
        group: { id: entityId },
        members: Array.isArray(payload.members) ? payload.members : [],
      };
    case 'group.deleted':
      return { group: resource('group') };
    case 'group.created':
    case 'group.updated':
      return { group: resource('group'), changed };
    case 'user.purged':
      return { user: { id: entityId } };
    case 'user.created':
    case 'user.updated':
    case 'user.deactivated':
    case 'user.reactivated':
    case 'user.deprovisioned':
    case 'user.restored':
      return { user: resource('user'), changed, ...reason };
  }
}

/** Most events one `readEvents` call returns. */
export const MAX_EVENTS_PER_READ = 1_000;

/** What `readEvents` returns: the events, and the seq to resume after. */
export interface EventBatch {
  readonly events: RosterEvent[];
  /** The seq of the last event returned, or `afterSeq` when there is none. */
  readonly lastSeq: number;
}

/**
 * Up to `limit` of the tenant's events after `afterSeq`, in order, of `types` only when given.
 * Outbox rows that are not events are skipped. Sequence order is commit order (the tenant row is
 * locked from a write's append to its commit), so resuming after `lastSeq` misses nothing.
 * Throws `Gone` when events after `afterSeq` were pruned (retention, events/retention.ts): the
 * reader fell behind by more than the retention and must start again from a full read.
 */
export async function readEvents(
  db: Db,
  tenantId: string,
  options: { afterSeq: number; limit: number; types?: readonly EventType[] | undefined },
): Promise<EventBatch> {
  const kinds = changeKindsOf(options.types ?? EVENT_TYPES);
  const limit = Math.max(1, Math.min(Math.trunc(options.limit), MAX_EVENTS_PER_READ));
  if (kinds.length === 0) return { events: [], lastSeq: options.afterSeq };
  const changes = await readChangesAfter(db, tenantId, options.afterSeq, limit, kinds);
  const events = changes.flatMap((change) => eventOfChange(tenantId, change) ?? []);
  // Read after the rows: the pruner records how far it prunes before it deletes, so rows read
  // before a deletion are whole, and a read that missed deleted rows sees how far they went.
  const prunedSeq = await eventsPrunedSeq(db, tenantId);
  if (options.afterSeq < prunedSeq)
    throw gone(
      `the events after this position are no longer kept (events are kept EVENTS_RETENTION_DAYS); the oldest kept event follows ${eventId(tenantId, prunedSeq)}`,
      { prunedSeq, oldestAfter: eventId(tenantId, prunedSeq) },
    );
  return { events, lastSeq: events.at(-1)?.seq ?? options.afterSeq };
}

/** The JSON an event is sent as (webhooks) and listed as (events API). */
export function eventJson(event: RosterEvent): {
  id: string;
  type: EventType;
  version: number;
  occurredAt: string;
  data: Readonly<Record<string, unknown>>;
} {
  return {
    id: event.id,
    type: event.type,
    version: event.version,
    occurredAt: event.occurredAt.toISOString(),
    data: event.data,
  };
}

/**
 * Parses event type patterns (`user.*`, `group.members_*`, `group.created`, `*`): a trailing `*`
 * matches any rest. Throws `Invalid` for a pattern that matches no type.
 */
export function parseEventTypes(patterns: readonly string[]): EventType[] {
  const types = new Set<EventType>();
  for (const raw of patterns) {
    const pattern = raw.trim();
    const matched = EVENT_TYPES.filter((type) =>
      pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
    );
    if (matched.length === 0)
      throw invalid(`unknown event type "${pattern.slice(0, 64)}"`, {
        field: 'events',
      });
    for (const type of matched) types.add(type);
  }
  return EVENT_TYPES.filter((type) => types.has(type));
}
