// RFC 9865 cursors: opaque to clients, a keyset position to us (the last row's sort key and id),
// bound to the filter and sort they were issued for.
import { createHash } from 'node:crypto';
import { invalid } from '../errors.js';
import { isUuid } from '../ids.js';
import { isStorableText } from '../input-limits.js';
import { readTimestamp } from '../timestamp.js';
import type { SortKeyType } from './compile-filter.js';

/** Where a cursor points: after (`next`) or before (`previous`) the row with this key and id. */
export interface CursorPosition {
  readonly direction: 'next' | 'previous';
  /** The row's sort key as PostgreSQL prints it (`::text`), null when the key is null. */
  readonly key: string | null;
  readonly id: string;
}

/** `details.reason` of the core `Invalid` error a bad cursor raises (SCIM: scimType invalidCursor). */
export const INVALID_CURSOR = 'invalidCursor';

interface CursorPayload {
  readonly v: 1;
  /** Fingerprint of the query (filter and sort) the cursor belongs to. */
  readonly q: string;
  readonly d: 'n' | 'p';
  readonly k: string | null;
  readonly i: string;
}

/** A short digest of whatever makes two queries the same list. */
export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeCursor(fingerprint: string, position: CursorPosition): string {
  const payload: CursorPayload = {
    v: 1,
    q: fingerprint,
    d: position.direction === 'next' ? 'n' : 'p',
    k: position.key,
    i: position.id,
  };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** Whether a decoded key can be cast back to its SQL type without a database error. */
const KEY_SHAPES: Readonly<Record<SortKeyType, (key: string) => boolean>> = {
  text: isStorableText,
  uuid: isUuid,
  // strictly: a well-shaped but impossible date (February 30th) would fail in PostgreSQL
  timestamptz: (key) => readTimestamp(key) !== undefined,
  boolean: (key) => /^(true|false)$/.test(key),
  numeric: (key) => /^-?\d{1,100}(\.\d{1,100})?$/.test(key),
};

const MAX_CURSOR_LENGTH = 4096;

/** Decodes a cursor issued for the same query; anything else is `Invalid` (reason invalidCursor). */
export function decodeCursor(
  cursor: string,
  fingerprint: string,
  keyType: SortKeyType,
): CursorPosition {
  const refuse = (why: string) =>
    invalid(`cursor is not valid: ${why}`, { field: 'cursor', reason: INVALID_CURSOR });
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw refuse('not a cursor this server issued');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse('not a cursor this server issued');
  }
  if (typeof payload !== 'object' || payload === null)
    throw refuse('not a cursor this server issued');
  const { v, q, d, k, i } = payload as Record<string, unknown>;
  if (v !== 1 || (d !== 'n' && d !== 'p') || typeof i !== 'string' || !isUuid(i))
    throw refuse('not a cursor this server issued');
  if (q !== fingerprint) throw refuse('it was issued for another filter or sort order');
  if (k !== null && (typeof k !== 'string' || !KEY_SHAPES[keyType](k)))
    throw refuse('not a cursor this server issued');
  return { direction: d === 'n' ? 'next' : 'previous', key: k, id: i };
}
