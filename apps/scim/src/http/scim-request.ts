import type { Request, Response } from 'express';
import type { ChangeContext, Tenant } from '@roster/core';

/** The tenant the bearer token proved (set by requireScimToken before any route runs). */
export function tenantOf(req: Request): Tenant {
  const tenant = req.scimTenant;
  if (!tenant) throw new Error('SCIM route reached without an authenticated tenant');
  return tenant;
}

/**
 * Who changes the directory: the tenant's SCIM token, or the SCIM client whose access token was
 * presented (its client id), with the request id (rule 7 in the README's "The rules").
 */
export function changeContextOf(req: Request): ChangeContext {
  const id = req.scimTokenId ?? req.scimClientId;
  return {
    actor: { type: 'scim_token', ...(id ? { id } : {}) },
    requestId: String(req.id),
  };
}

/** The tenant's SCIM base URL, e.g. https://scim.example.com/scim/v2/acme. */
export const baseUrlOf = (res: Response): string => String(res.locals.scimBaseUrl);
