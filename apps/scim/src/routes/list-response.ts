import { ScimError } from '../errors/scim-error.js';
import { LIST_RESPONSE_SCHEMA } from '../scim-config.js';

const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** A page as core returns it (index or RFC 9865 cursor paging). */
export interface PageInfo {
  readonly totalResults: number;
  readonly startIndex?: number;
  readonly nextCursor?: string;
  readonly previousCursor?: string;
}

/**
 * RFC 7644 §3.4.2 ListResponse, built here rather than by scimmy, whose ListResponse re-sorts and
 * re-slices pages in memory (scimmy 1.3.5). itemsPerPage is the number of resources on this
 * page, as Okta's validator requires.
 */
export function listResponse(
  page: PageInfo,
  resources: readonly Record<string, unknown>[],
): Record<string, unknown> {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: page.totalResults,
    itemsPerPage: resources.length,
    ...(page.startIndex !== undefined ? { startIndex: page.startIndex } : {}),
    // RFC 9865: the cursors of the neighbouring pages, when there are any.
    ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
    ...(page.previousCursor !== undefined ? { previousCursor: page.previousCursor } : {}),
    Resources: resources,
  };
}

/** A POST /.search body (RFC 7644 §3.4.3): a SearchRequest message, as list parameters. */
export function searchParams(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ScimError(400, 'the request body must be a SearchRequest object', 'invalidSyntax');
  const { schemas, ...params } = body as Record<string, unknown>;
  if (!Array.isArray(schemas) || !schemas.includes(SEARCH_REQUEST_SCHEMA))
    throw new ScimError(400, `schemas must contain ${SEARCH_REQUEST_SCHEMA}`, 'invalidSyntax');
  return params;
}
