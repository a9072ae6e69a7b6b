/** Every way a core operation can fail for a reason the caller can act on. */
export const CORE_ERROR_CODES = [
  'NotFound',
  'Conflict',
  'Invalid',
  'PreconditionFailed',
  'Forbidden',
  'Unauthorized',
  'Unavailable',
  'Gone',
] as const;
export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/**
 * A failure the caller can act on. It carries no HTTP status: each adapter maps `code` once,
 * in a table checked by the compiler (STYLE B3).
 */
export class CoreError extends Error {
  override readonly name = 'CoreError';
  readonly code: CoreErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(
    code: CoreErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export const notFound = (message: string, details?: Record<string, unknown>) =>
  new CoreError('NotFound', message, details ? { details } : {});
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new CoreError('Conflict', message, details ? { details } : {});
export const gone = (message: string, details?: Record<string, unknown>) =>
  new CoreError('Gone', message, details ? { details } : {});
export const invalid = (message: string, details?: Record<string, unknown>) =>
  new CoreError('Invalid', message, details ? { details } : {});

export function isCoreError(error: unknown, code?: CoreErrorCode): error is CoreError {
  return error instanceof CoreError && (code === undefined || error.code === code);
}

/** PostgreSQL SQLSTATEs the use cases react to. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_SERIALIZATION_FAILURE = '40001';
export const PG_DEADLOCK_DETECTED = '40P01';

/** The SQLSTATE of a driver error (node-pg and PGlite both expose `code`), if any. */
export function sqlState(error: unknown): string | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
  ) {
    return error.code;
  }
  return undefined;
}

/** The constraint a driver error names, if any. */
export function violatedConstraint(error: unknown): string | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    'constraint' in error &&
    typeof error.constraint === 'string'
  ) {
    return error.constraint;
  }
  return undefined;
}
