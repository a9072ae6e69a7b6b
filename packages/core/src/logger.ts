import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/base.config.js';

export type Logger = PinoLogger;

/**
 * Paths never written to a log line: credentials, SAML messages and cookies (STYLE B5).
 * Request bodies are never logged at all, nor the values an error carries ({@link serializeError}).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'token',
  '*.token',
  'SAMLResponse',
  '*.SAMLResponse',
  'SAMLRequest',
  '*.SAMLRequest',
  'password',
  '*.password',
];

/**
 * What an error's log line keeps besides its class, message and stack: fields that say what
 * failed (SQLSTATE, constraint, body-parser reason, socket) and never whose data it was. The
 * rest is dropped: pg and PGlite put the row's values in `detail`, `where` and `internalQuery`
 * and the bind parameters in `params`; body-parser puts the raw body in `body`.
 */
const SAFE_ERROR_FIELDS = [
  'code',
  'severity',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
  'status',
  'statusCode',
  'scimType',
  'errno',
  'syscall',
  'address',
  'port',
] as const;

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Messages that quote the caller's value: PostgreSQL's data exceptions (SQLSTATE class 22, e.g.
 * `invalid input syntax for type uuid: "ann@example.com"`) and JSON.parse's excerpt of the text
 * it could not read. The quoted part is cut; the rest still says what went wrong.
 */
function messageWithoutValues(error: Error & { code?: unknown }): string {
  const quotesValue =
    error instanceof SyntaxError ||
    (typeof error.code === 'string' && SQLSTATE.test(error.code) && error.code.startsWith('22'));
  return quotesValue ? error.message.replace(/["'`].*["'`]/s, '"…"') : error.message;
}

/**
 * The `err` serializer of every log line (pino's, and pino-http's, which hands over pino's
 * serialized copy with the original error as `raw`): see {@link SAFE_ERROR_FIELDS}.
 */
export function serializeError(value: unknown, depth = 0): unknown {
  const raw = (value as { raw?: unknown } | null)?.raw;
  const error = value instanceof Error ? value : raw instanceof Error ? raw : undefined;
  // A thrown non-Error (a string, a plain object) may be anything: only its kind is kept.
  if (!error) return { type: typeof value };
  const message = messageWithoutValues(error);
  const fields = error as unknown as Record<string, unknown>;
  const safe: Record<string, unknown> = {
    type: error.constructor.name,
    message,
    stack: error.stack?.replace(error.message, message),
  };
  for (const field of SAFE_ERROR_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' || typeof value === 'number') safe[field] = value;
  }
  // body-parser's reason (`entity.parse.failed`); `type` above is the class.
  if (typeof fields.type === 'string') safe.reason = fields.type;
  if (depth < 5 && error.cause !== undefined) safe.cause = serializeError(error.cause, depth + 1);
  if (depth < 5 && error instanceof AggregateError)
    safe.errors = (error.errors as unknown[]).map((inner) => serializeError(inner, depth + 1));
  return safe;
}

/**
 * One JSON logger for the process; modules take `logger.child({ module })`.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.child({ module: 'scim' }).info({ tenant: 'acme' }, 'scim.user.created');
 */
export function createLogger(options: {
  level: LogLevel;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      base: { pid: process.pid },
    },
    options.destination ?? process.stdout,
  );
}
