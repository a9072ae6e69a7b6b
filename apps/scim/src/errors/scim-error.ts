import type { Request, Response } from 'express';
import { CORE_ERROR_CODES, type CoreErrorCode } from '@roster/core';
import { toPublicError, type ErrorRenderer, type PublicError } from '@roster/http';
import SCIMMY from 'scimmy';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 scimType values this server uses. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 §3 (cursor paging)
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount';

/** A failure answered as an RFC 7644 §3.12 error body. */
export class ScimError extends Error {
  override readonly name = 'ScimError';
  readonly status: number;
  readonly scimType: ScimType | undefined;
  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.status = status;
    this.scimType = scimType;
  }
}

/** Writes the RFC 7644 §3.12 body; the request id is in the detail and the X-Request-Id header. */
export function sendScimError(
  req: Request,
  res: Response,
  status: number,
  detail: string,
  scimType?: ScimType,
): void {
  res
    .status(status)
    .type(SCIM_CONTENT_TYPE)
    .json({
      schemas: [ERROR_SCHEMA],
      status: String(status),
      ...(scimType ? { scimType } : {}),
      detail: `${detail} (request id ${String(req.id)})`,
    });
}

/**
 * RFC 7644 §3.12 scimType for each core error code (the status comes from @roster/http's table).
 * A new core code fails this build until it is mapped here.
 */
export const SCIM_TYPE_OF_CORE_ERROR = {
  NotFound: undefined,
  Conflict: 'uniqueness',
  Invalid: 'invalidValue',
  PreconditionFailed: undefined,
  Forbidden: undefined,
  Unauthorized: undefined,
  Unavailable: undefined,
  Gone: undefined,
} as const satisfies Record<CoreErrorCode, ScimType | undefined>;

const isCoreErrorCode = (code: string): code is CoreErrorCode =>
  (CORE_ERROR_CODES as readonly string[]).includes(code);

/** HTTP-layer failures with their own scimType (malformed JSON is RFC 7644 invalidSyntax). */
const SCIM_TYPE_OF_HTTP_ERROR: Readonly<Record<string, ScimType>> = {
  InvalidJson: 'invalidSyntax',
  InvalidValue: 'invalidValue',
};

const scimTypeOf = (error: PublicError): ScimType | undefined =>
  isCoreErrorCode(error.code)
    ? SCIM_TYPE_OF_CORE_ERROR[error.code]
    : SCIM_TYPE_OF_HTTP_ERROR[error.code];

/**
 * scimmy reports bad input as SCIMMY.Types.Error (status + scimType): that becomes our ScimError;
 * any other error is returned untouched (a TypeError of ours is a bug and must stay a 500, never a
 * 400: scimmy itself turns a TypeError thrown in a handler into 400 `invalidValue`).
 */
export function toScimError(error: unknown): unknown {
  if (!(error instanceof SCIMMY.Types.Error)) return error;
  const scimType = (error.scimType as ScimType | null | undefined) ?? undefined;
  return new ScimError(error.status, readableScimmyMessage(error.message), scimType);
}

/**
 * JavaScript's own messages, which scimmy's PatchOp passes on as the text of its 400 when one of
 * its steps throws (it wraps any exception), with what they mean to a client.
 */
const ENGINE_MESSAGES: readonly (readonly [RegExp, (name: string | undefined) => string])[] = [
  [
    /Cannot add property ([^\s,]+), object is not extensible/,
    (n) => `'${n}' is not an attribute there`,
  ],
  [
    /'(?:set|defineProperty|deleteProperty)' on proxy: trap returned falsish for property '([^']*)'/,
    (n) => `'${n}' cannot be changed that way`,
  ],
  [/Cannot assign to read only property '([^']*)'[^]*?(?= for '|$)/, (n) => `'${n}' is read-only`],
  [
    /Cannot (?:read|set) propert(?:y|ies) of (?:undefined|null)[^]*?(?= for '|$)/,
    () => 'the value does not fit the attribute',
  ],
  [
    /\S+ is not (?:a function|iterable|a constructor)(?= for '|$)/,
    () => 'the value does not fit the attribute',
  ],
];

/** scimmy's message with any JavaScript engine text in it put in a client's words. */
export function readableScimmyMessage(message: string): string {
  for (const [pattern, readable] of ENGINE_MESSAGES) {
    const match = pattern.exec(message);
    if (match) return message.replace(match[0], readable(match[1]));
  }
  return message;
}

/** What any error answers in SCIM terms: ours and scimmy's as they are, the rest as core/HTTP map them. */
export function scimFailureOf(error: unknown): {
  status: number;
  detail: string;
  scimType: ScimType | undefined;
  internal: boolean;
} {
  const translated = toScimError(error);
  if (translated instanceof ScimError)
    return {
      status: translated.status,
      detail: translated.message,
      scimType: translated.scimType,
      internal: false,
    };
  const publicError = toPublicError(error);
  return {
    status: publicError.status,
    detail: publicError.message,
    scimType: scimTypeOf(publicError),
    internal: publicError.internal,
  };
}

/** Every error the app raises, core's and HTTP's included, leaves as a SCIM error. */
export const renderScimError: ErrorRenderer = (error: PublicError, req, res) => {
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="roster-scim"');
  sendScimError(req, res, error.status, error.message, scimTypeOf(error));
};
