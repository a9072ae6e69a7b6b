// One SCIM operation, apart from HTTP: the routes and /Bulk (RFC 7644 §3.7) run the same code.
import type { Request, Response } from 'express';
import type { ChangeContext, Logger, Tenant } from '@roster/core';
import { SCIM_CONTENT_TYPE } from '../errors/scim-error.js';
import { etagOf } from './etag.js';
import { baseUrlOf, changeContextOf, tenantOf } from './scim-request.js';

type Json = Record<string, unknown>;

/** What an operation gets: the tenant, who asks, and the request's parts. */
export interface OperationInput {
  readonly tenant: Tenant;
  readonly context: ChangeContext;
  /** The tenant's SCIM base URL. */
  readonly baseUrl: string;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  readonly id?: string;
  readonly body?: unknown;
  readonly query: Readonly<Record<string, unknown>>;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
}

/** What an operation answers; the status says which fields are set. */
export type OperationResult =
  | {
      readonly status: 200 | 201;
      readonly resource: Json;
      readonly version?: number;
      readonly location?: string;
    }
  | { readonly status: 204 | 304; readonly version?: number };

export type Operation = (input: OperationInput) => Promise<OperationResult>;

/** The operation's input from an HTTP request. */
export function operationInput(req: Request, res: Response): OperationInput {
  const id = req.params.id;
  const ifMatch = req.get('If-Match');
  const ifNoneMatch = req.get('If-None-Match');
  return {
    tenant: tenantOf(req),
    context: changeContextOf(req),
    baseUrl: baseUrlOf(res),
    log: req.log,
    ...(typeof id === 'string' ? { id } : {}),
    body: req.body as unknown,
    query: req.query,
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}),
  };
}

/** Writes an operation's result (RFC 7644 §3.3 Location on 201, §3.14 ETag). */
export function sendResult(res: Response, result: OperationResult): void {
  res.status(result.status);
  if (result.version !== undefined) res.setHeader('ETag', etagOf(result.version));
  if (!('resource' in result)) {
    res.end();
    return;
  }
  if (result.location) res.setHeader('Location', result.location);
  res.type(SCIM_CONTENT_TYPE).json(result.resource);
}

/** An express handler running an operation. */
export const handle =
  (operation: Operation) =>
  async (req: Request, res: Response): Promise<void> => {
    sendResult(res, await operation(operationInput(req, res)));
  };
