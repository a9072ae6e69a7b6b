// Shared by every queue of calls Roster makes out (outbound/deliveries.ts, webhooks/): when to try
// again, and what of an attempt is kept.
import { OUTBOUND_RESPONSE_EXCERPT_BYTES, OutboundError } from './outbound-policy.js';

/** The shape of an exponential backoff. */
export interface Backoff {
  /** Ceiling of the first retry's delay; each further retry doubles it. */
  readonly firstMs: number;
  /** Largest ceiling. */
  readonly maxMs: number;
  /** Shortest delay (full jitter may draw 0). */
  readonly minMs: number;
}

/**
 * The delay before retry number `failures` (1 for the first failure): exponential from
 * `firstMs`, capped at `maxMs`, with full jitter (a uniform draw below the ceiling, so receivers
 * coming back are not hit by every retry at once), at least `minMs`.
 */
export function backoffDelayMs(failures: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(
    backoff.maxMs,
    backoff.firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 30),
  );
  return Math.max(backoff.minMs, Math.round(random() * ceiling));
}

/**
 * Text as stored: without U+0000 (PostgreSQL text holds none; receivers' answers may), and at
 * most `maxBytes` (default {@link OUTBOUND_RESPONSE_EXCERPT_BYTES}) of UTF-8, cut between
 * characters.
 */
export function storableExcerpt(text: string, maxBytes = OUTBOUND_RESPONSE_EXCERPT_BYTES): string {
  const bytes = Buffer.from(text.replaceAll('\u0000', ''), 'utf8');
  if (bytes.byteLength <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  // Back to the first byte of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** A target URL's origin only: its path or query may carry a token, never logged or audited. */
export function originOf(targetUrl: string): string {
  try {
    return new URL(targetUrl).origin;
  } catch {
    return '(not a URL)';
  }
}

/** Why an attempt got no answer, for the attempt log: the outbound reason, or a render failure. */
export function attemptErrorText(thrown: unknown): string {
  return thrown instanceof OutboundError
    ? `${thrown.reason}: ${thrown.message}`
    : `could not render the request: ${thrown instanceof Error ? thrown.message : String(thrown)}`;
}
