/** What a redacted secret is replaced with in the SCIM request log. */
export const REDACTED = '[redacted]';

/**
 * A body bigger than this, serialised as JSON (UTF-8 bytes), is stored truncated: as a
 * {@link TruncatedBody} carrying its first bytes as text. Keeps one log row small whatever the
 * IdP sends (a SCIM request may be up to 1 MiB).
 */
export const MAX_LOGGED_BODY_BYTES = 65_536;

/** Stored instead of a body above {@link MAX_LOGGED_BODY_BYTES}. */
export interface TruncatedBody {
  readonly 'roster:truncated': true;
  /** Size of the whole (redacted) body, serialised. */
  readonly bytes: number;
  /** Its first {@link MAX_LOGGED_BODY_BYTES} bytes of JSON text (not parseable on its own). */
  readonly preview: string;
}

// Anything shaped like a Roster SCIM token (core/src/tenants/scim-token.ts): an IdP may echo
// one in a body, a query string or a header it copied into a field.
const SCIM_TOKEN_LIKE = /roster_scim_[A-Za-z0-9_-]+/g;
const TOKEN_REPLACEMENT = `roster_scim_${REDACTED}`;
// Bodies never carry headers, but an IdP's debugging field might.
const SECRET_KEYS = new Set(['password', 'authorization']);
// Bounds the walk on hostile nesting; anything deeper is replaced whole.
const MAX_DEPTH = 64;

/** `password`, `Password` and the fully qualified `urn:…:User:password` all name the password. */
function namesSecret(attribute: string): boolean {
  const lower = attribute.toLowerCase();
  const lastSegment = lower.slice(lower.lastIndexOf(':') + 1);
  return SECRET_KEYS.has(lastSegment) || SECRET_KEYS.has(lower);
}

/**
 * A PATCH operation whose `path` targets the password (RFC 7644 §3.5.2):
 * `{"op":"replace","path":"password","value":"…"}`, path in any case, schema-qualified or not.
 */
function isSecretPatchOperation(record: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === 'path' && typeof value === 'string') {
      // `password`, `urn:…:2.0:User:password`, `password.value`: drop any value filter, then the
      // schema URN (which has dots of its own), then any sub-attribute.
      const withoutFilter = value.trim().split('[')[0] ?? '';
      const attribute = withoutFilter.slice(withoutFilter.lastIndexOf(':') + 1).split('.')[0] ?? '';
      return namesSecret(attribute);
    }
  }
  return false;
}

// A lone half of a UTF-16 surrogate pair (with the `u` flag a whole pair is one code point).
const LONE_SURROGATES = /\p{Cs}/gu;

/**
 * A string with every SCIM-token-like substring replaced, and what jsonb refuses (NUL, a lone
 * surrogate) made visible as U+FFFD: a client must not be able to keep its request out of the log.
 */
export function redactText(text: string): string {
  return text
    .replace(SCIM_TOKEN_LIKE, TOKEN_REPLACEMENT)
    .replaceAll('\u0000', '\uFFFD')
    .replace(LONE_SURROGATES, '\uFFFD');
}

/**
 * A copy of a parsed SCIM body that is safe to keep: every `password` (any depth, any case,
 * schema-qualified too), the `value` of a PATCH operation whose `path` is the password, and any
 * Roster SCIM token inside a string are replaced with {@link REDACTED}.
 *
 * @example
 * redactScimBody({ userName: 'ana', password: 'hunter2' });
 * // { userName: 'ana', password: '[redacted]' }
 */
export function redactScimBody(body: unknown): unknown {
  return redactValue(body, 0);
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const record = value as Record<string, unknown>;
  const secretOperation = isSecretPatchOperation(record);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    const secret = namesSecret(key) || (secretOperation && key.toLowerCase() === 'value');
    copy[redactText(key)] = secret ? REDACTED : redactValue(item, depth + 1);
  }
  return copy;
}

/**
 * The redacted body as it is stored: itself when it serialises to at most
 * {@link MAX_LOGGED_BODY_BYTES}, a {@link TruncatedBody} otherwise, `null` when there is none.
 */
export function bodyForLog(body: unknown): unknown {
  if (body === undefined || body === null) return null;
  const redacted = redactScimBody(body);
  const serialised = JSON.stringify(redacted) as string | undefined;
  if (serialised === undefined) return null;
  const bytes = Buffer.byteLength(serialised, 'utf8');
  if (bytes <= MAX_LOGGED_BODY_BYTES) return redacted;
  const truncated: TruncatedBody = {
    'roster:truncated': true,
    bytes,
    // A cut inside a multi-byte character decodes to U+FFFD; the preview stays valid text.
    preview: Buffer.from(serialised, 'utf8').subarray(0, MAX_LOGGED_BODY_BYTES).toString('utf8'),
  };
  return truncated;
}
