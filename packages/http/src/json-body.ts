import type { NextFunction, Request, Response } from 'express';
import { findUnstorableJson } from '@roster/core';
import { HttpError } from './http-error.js';

/**
 * Mount after express.json: a parsed body nested deeper than MAX_JSON_DEPTH, or holding a string
 * PostgreSQL cannot store (U+0000, a lone surrogate) anywhere, ignored attributes included, is
 * refused whole with 400 before any handler walks it or anything is written.
 */
export function refuseUnstorableJson(req: Request, _res: Response, next: NextFunction): void {
  const problem =
    req.body === undefined ? undefined : findUnstorableJson(req.body, 'the request body');
  if (problem) throw new HttpError(400, 'InvalidValue', problem);
  next();
}
