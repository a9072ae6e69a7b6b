import type { Request, Response } from 'express';
import type { ErrorRenderer, PublicError } from '@roster/http';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 scimType values this server uses. */
export type ScimType =
  | 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath'
  | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

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
export function sendScimError(req: Request, res: Response, status: number, detail: string, scimType?: ScimType): void {
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

/** Every error the app raises, core's and HTTP's included, leaves as a SCIM error. */
export const renderScimError: ErrorRenderer = (error: PublicError, req, res) => {
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="roster-scim"');
  sendScimError(req, res, error.status, error.message, error.status === 409 ? 'uniqueness' : error.status === 400 ? 'invalidValue' : undefined);
};
