import { CoreError, type CoreErrorCode } from '@roster/core';

/** HTTP status for each core error code; a new code fails the build until it is mapped here. */
export const STATUS_OF_CORE_ERROR = {
  NotFound: 404,
  Conflict: 409,
  Invalid: 400,
  PreconditionFailed: 412,
  Forbidden: 403,
  Unauthorized: 401,
  Unavailable: 503,
  Gone: 410,
} as const satisfies Record<CoreErrorCode, number>;

/** An error raised by the HTTP layer itself (bad JSON, missing token, unknown route). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface PublicError {
  readonly status: number;
  readonly code: string;
  /** Safe to show: never an internal message. */
  readonly message: string;
  /** True for failures that are our fault (logged with their stack). */
  readonly internal: boolean;
}

/** Express' body parser marks its errors with `type` and `status`. */
interface BodyParserError {
  type: string;
  status: number;
}

const isBodyParserError = (error: unknown): error is BodyParserError =>
  typeof error === 'object' &&
  error !== null &&
  'type' in error &&
  'status' in error &&
  typeof error.status === 'number';

/** What any error means for the caller; unknown errors become a fixed 500 message. */
export function toPublicError(error: unknown): PublicError {
  if (error instanceof HttpError)
    return { status: error.status, code: error.code, message: error.message, internal: false };
  if (error instanceof CoreError) {
    return {
      status: STATUS_OF_CORE_ERROR[error.code],
      code: error.code,
      message: error.message,
      internal: false,
    };
  }
  // express' router could not percent-decode a path segment (`/tenants/%FF`): the caller's URL.
  if (error instanceof URIError) {
    return {
      status: 400,
      code: 'BadRequest',
      message: 'the request path is not valid percent-encoded UTF-8',
      internal: false,
    };
  }
  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.parse.failed':
        return {
          status: 400,
          code: 'InvalidJson',
          message: 'the request body is not valid JSON',
          internal: false,
        };
      case 'entity.too.large':
        return {
          status: 413,
          code: 'PayloadTooLarge',
          message: 'the request body is larger than this endpoint accepts',
          internal: false,
        };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return {
          status: 415,
          code: 'UnsupportedMediaType',
          message: 'the request body encoding is not supported',
          internal: false,
        };
      default:
        if (error.status >= 400 && error.status < 500) {
          return {
            status: error.status,
            code: 'BadRequest',
            message: 'the request could not be read',
            internal: false,
          };
        }
    }
  }
  // PostgreSQL text cannot hold NUL (SQLSTATE 22021) or characters outside the encoding (22P05):
  // the caller's value, not our fault.
  if (sqlStateOf(error) === '22021' || sqlStateOf(error) === '22P05') {
    return {
      status: 400,
      code: 'InvalidValue',
      message: 'a value contains a character that cannot be stored (such as U+0000)',
      internal: false,
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      code: 'Unavailable',
      message: 'the database is unavailable; try again shortly',
      internal: true,
    };
  }
  return {
    status: 500,
    code: 'Internal',
    message: 'internal error; quote the request id when reporting it',
    internal: true,
  };
}

const sqlStateOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

/** Connection-level failures: PostgreSQL down or restarting (SQLSTATE class 08, 57P0x) or no socket. */
function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (
    /^08|^57P0[123]$/.test(code) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)
  )
    return true;
  const message = error instanceof Error ? error.message : '';
  // The last one is what pg throws when a transaction's rollback runs on a client whose server
  // went away; it hides the original 57P01.
  return /Connection terminated|timeout exceeded when trying to connect|database did not answer|Client has encountered a connection error and is not queryable/.test(
    message,
  );
}
