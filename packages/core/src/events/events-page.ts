// One page of a tenant's events for the events API (GET /v1/tenants/:slug/events): resumable
// with the change feed's cursors, so a cursor taken from `@roster/core/directory` and one taken
// from the events API name the same place in the tenant's sequence.
import { latestChangeSeq } from '../changes/outbox.js';
import type { Db } from '../db/transaction.js';
import { decodeChangeCursor, encodeChangeCursor } from '../directory/change-feed.js';
import { isCoreError, invalid } from '../errors.js';
import { MAX_EVENTS_PER_READ, parseEventTypes, readEvents, type RosterEvent } from './event.js';

/** Events per page when the caller does not say. */
export const DEFAULT_EVENTS_PAGE_SIZE = 100;
/** The most events one page holds. */
export const MAX_EVENTS_PAGE_SIZE = MAX_EVENTS_PER_READ;
/** The `after` that starts at the tenant's latest event: only what comes next is read. */
export const EVENTS_AFTER_NOW = 'now';

/** What to read: where to resume, how many, which types (patterns like `user.*`). */
export interface EventsPageRequest {
  /** A `next` from an earlier page, a change feed cursor, or `now`; absent: from the start. */
  readonly after?: string | undefined;
  /** 1 to {@link MAX_EVENTS_PAGE_SIZE}; default {@link DEFAULT_EVENTS_PAGE_SIZE}. */
  readonly limit?: number | undefined;
  /** Event types or `prefix.*` patterns; absent: every type. */
  readonly types?: readonly string[] | undefined;
}

/** A page of events and the cursor to ask for the next one with (always present). */
export interface EventsPage {
  readonly events: RosterEvent[];
  /** The cursor of the last event returned, or the `after` given (the start) when none was. */
  readonly next: string;
}

/**
 * Up to `limit` of the tenant's events after the cursor, in order. Loop with `next` for ever:
 * an empty page keeps `next` where it was. Throws `Invalid` for a cursor that is not one this
 * server issued, that belongs to another tenant or that is ahead of the tenant's latest event,
 * for a limit out of range and for an unknown type.
 */
export async function readEventsPage(
  db: Db,
  tenantId: string,
  request: EventsPageRequest,
): Promise<EventsPage> {
  const limit = request.limit ?? DEFAULT_EVENTS_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PAGE_SIZE)
    throw invalid(`limit must be a whole number from 1 to ${MAX_EVENTS_PAGE_SIZE}`, {
      field: 'limit',
    });
  const types = request.types === undefined ? undefined : parseEventTypes(request.types);
  const head = await latestChangeSeq(db, tenantId);
  if (request.after === EVENTS_AFTER_NOW)
    return { events: [], next: encodeChangeCursor(tenantId, head) };
  const afterSeq = request.after === undefined ? 0 : seqOfCursor(request.after, tenantId, head);
  const batch = await readEvents(db, tenantId, { afterSeq, limit, types });
  return { events: batch.events, next: encodeChangeCursor(tenantId, batch.lastSeq) };
}

function seqOfCursor(cursor: string, tenantId: string, head: number): number {
  let decoded: { tenantId: string; seq: number };
  try {
    decoded = decodeChangeCursor(cursor);
  } catch (error) {
    if (isCoreError(error, 'Invalid'))
      throw invalid('after: not a cursor this server issued (use "next" from a page, or "now")', {
        field: 'after',
      });
    throw error;
  }
  if (decoded.tenantId !== tenantId)
    throw invalid('after: the cursor belongs to another tenant', { field: 'after' });
  // Past the latest event: a cursor from another copy of the database, or a forged one. Taken
  // as is, it would wait in silence until the tenant had written that many changes.
  if (decoded.seq > head)
    throw invalid("after: the cursor is ahead of the tenant's latest event", { field: 'after' });
  return decoded.seq;
}
