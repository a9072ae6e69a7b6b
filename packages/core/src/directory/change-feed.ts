// The change feed: the transactional outbox (changes/outbox.ts) read in seq order, one tenant at
// a time, woken by LISTEN/NOTIFY and, as a safety net, by a slow poll.
import { readChangesAfter } from '../changes/outbox.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import { isUuid } from '../ids.js';

/** Changes read from the outbox per query, unless `batchSize` says otherwise. */
export const DEFAULT_CHANGE_BATCH_SIZE = 100;
/** The largest `batchSize` a feed accepts. */
export const MAX_CHANGE_BATCH_SIZE = 1_000;
/**
 * How often an idle feed looks at the outbox without being notified (a notification lost with
 * its connection is caught up this late at worst), unless `pollIntervalMs` says otherwise.
 */
export const DEFAULT_CHANGE_POLL_INTERVAL_MS = 5_000;

/** What happened, as the outbox names it; new kinds may appear, so keep a default branch. */
export type DirectoryChangeKind =
  | 'user.created'
  | 'user.adopted'
  | 'user.replaced'
  | 'user.signed_in'
  | 'user.refreshed_by_sign_in'
  | 'user.deactivated'
  | 'user.reactivated'
  | 'user.restored'
  | 'user.deprovisioned'
  | 'user.purged'
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  | (string & {});

/** One change of a tenant's directory. */
export interface DirectoryChange {
  /** Where a feed resumes to see what comes after this change: store it once it is handled. */
  readonly cursor: string;
  /** The tenant's slug. */
  readonly tenant: string;
  /** The change's position in its tenant: strictly increasing in commit order, no gaps. */
  readonly seq: number;
  readonly occurredAt: Date;
  readonly kind: DirectoryChangeKind;
  readonly entity: { readonly type: 'user' | 'group'; readonly id: string };
  /**
   * A hint, not the entity: users carry `{ state, managedBy, version }`, groups `{ version }`,
   * purges nothing. Read the entity itself for its current attributes.
   */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Options of `directory.changes()`. */
export interface ChangeFeedOptions {
  /** The tenant's slug; defaults to the cursor's tenant, then to the directory's tenant. */
  readonly tenant?: string;
  /** A change's `cursor` (or `directory.head()`): the feed starts after it. Absent: from the start. */
  readonly since?: string;
  /** Ends the feed: the loop over it finishes without an error. */
  readonly signal?: AbortSignal;
  /** Changes per read, 1 to {@link MAX_CHANGE_BATCH_SIZE}. */
  readonly batchSize?: number;
  /** The safety-net poll of an idle feed, in ms (at least 10). */
  readonly pollIntervalMs?: number;
}

const CURSOR_VERSION = 'c1';

/** A cursor: opaque to consumers; the tenant id and the last seq handled, to us. */
export function encodeChangeCursor(tenantId: string, seq: number): string {
  return Buffer.from(`${CURSOR_VERSION}:${tenantId}:${seq}`).toString('base64url');
}

/** The tenant id and seq a cursor names; throws `Invalid` for one this directory did not issue. */
export function decodeChangeCursor(cursor: string): { tenantId: string; seq: number } {
  const [version, tenantId, seqText, ...rest] = Buffer.from(cursor, 'base64url')
    .toString()
    .split(':');
  const seq = Number(seqText);
  if (
    version !== CURSOR_VERSION ||
    rest.length > 0 ||
    !tenantId ||
    !isUuid(tenantId) ||
    !/^\d{1,15}$/.test(seqText ?? '') ||
    !Number.isSafeInteger(seq)
  ) {
    throw invalid('the change cursor is not one this directory issued', { field: 'since' });
  }
  return { tenantId, seq };
}

/** Wakes a waiting feed; a wake-up that comes while it is busy is kept for its next wait. */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  /** Forgets earlier wake-ups: called right before the outbox is read, which sees them all. */
  clear(): void {
    this.#pending = false;
  }

  /** Resolves at the next wake-up, after `timeoutMs`, or when `signal` aborts. */
  async wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.#resolve = resolve;
        timer = setTimeout(resolve, timeoutMs);
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      this.#resolve = undefined;
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

export interface FeedSource {
  readonly db: Db;
  readonly tenantId: string;
  readonly tenantSlug: string;
  /** Calls `wake` at every notification for the tenant; resolves once listening. */
  subscribe(tenantId: string, wake: () => void): Promise<() => void>;
}

/**
 * Yields the tenant's changes after `afterSeq`, forever (until `signal`). Back-pressure: a batch
 * is read only when the consumer asks for a change and the previous batch is used up, so at most
 * one batch is held in memory. At-least-once: a consumer resuming from the cursor of the last
 * change it handled sees every later change, possibly some it handled but did not record.
 */
export async function* readChangeFeed(
  source: FeedSource,
  afterSeq: number,
  options: { batchSize: number; pollIntervalMs: number; signal: AbortSignal },
): AsyncGenerator<DirectoryChange, void, undefined> {
  const { signal } = options;
  const wakeup = new Wakeup();
  // Listen before the first read: a change committed in between is then either read or notified.
  const unsubscribe = await source.subscribe(source.tenantId, () => wakeup.wake());
  let last = afterSeq;
  try {
    while (!signal.aborted) {
      wakeup.clear();
      const rows = await readChangesAfter(source.db, source.tenantId, last, options.batchSize);
      for (const row of rows) {
        if (signal.aborted) return;
        yield {
          cursor: encodeChangeCursor(source.tenantId, row.seq),
          tenant: source.tenantSlug,
          seq: row.seq,
          occurredAt: row.occurredAt,
          kind: row.kind,
          entity: { type: row.entityType, id: row.entityId },
          payload: row.payload,
        };
        last = row.seq;
      }
      // A full batch: more may be waiting already, read on as soon as the consumer asks.
      if (rows.length < options.batchSize) await wakeup.wait(options.pollIntervalMs, signal);
    }
  } catch (error) {
    // close() destroys the pool under a read in flight: the feed ends, it does not fail.
    if (!signal.aborted) throw error;
  } finally {
    unsubscribe();
  }
}
