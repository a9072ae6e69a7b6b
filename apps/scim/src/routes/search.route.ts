// RFC 7644 §3.4.3: POST /.search at the root searches Users and Groups together.
import { Router } from 'express';
import { ScimError } from '../errors/scim-error.js';
import { handle } from '../http/operation.js';
import { listResponse, searchParams } from './list-response.js';
import type { ResourceOperations } from './users.route.js';

type Json = Record<string, unknown>;

interface ListPage {
  readonly totalResults: number;
  readonly Resources: Json[];
}

/**
 * Users first, then Groups, as one list. A filter naming an attribute only one type has matches
 * nothing of the other (RFC 7644 §3.4.2.2); cursor paging is per resource type only.
 */
export function rootSearchRouter(users: ResourceOperations, groups: ResourceOperations): Router {
  const router = Router({ mergeParams: true });
  router.post(
    '/.search',
    handle(async (input) => {
      const params = searchParams(input.body);
      if (params.cursor !== undefined)
        throw new ScimError(
          400,
          'cursor paging is offered per resource type, not on /.search at the root',
          'invalidValue',
        );
      const startIndex = Math.max(1, Number(params.startIndex ?? 1) || 1);
      const count = params.count;
      // Each type answers the same query; an attribute it does not have means no match there.
      const pageOf = async (
        operations: ResourceOperations,
        query: Json,
      ): Promise<ListPage | undefined> => {
        try {
          const result = await operations.search({
            ...input,
            body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...query },
          });
          return 'resource' in result ? (result.resource as unknown as ListPage) : undefined;
        } catch (error) {
          if (
            error instanceof ScimError &&
            error.scimType === 'invalidFilter' &&
            params.filter !== undefined
          )
            return undefined;
          throw error;
        }
      };
      const userPage = await pageOf(users, { ...params, startIndex });
      const userTotal = userPage?.totalResults ?? 0;
      const taken = userPage?.Resources ?? [];
      const wanted = typeof count === 'number' ? count : Number(count ?? Number.POSITIVE_INFINITY);
      const groupStart = Math.max(1, startIndex - userTotal);
      const groupPage = await pageOf(groups, {
        ...params,
        startIndex: groupStart,
        ...(Number.isFinite(wanted) ? { count: Math.max(0, wanted - taken.length) } : {}),
      });
      if (!userPage && !groupPage)
        throw new ScimError(
          400,
          'the filter names no attribute of Users or Groups',
          'invalidFilter',
        );
      const resources = [...taken, ...(groupPage?.Resources ?? [])];
      return {
        status: 200,
        resource: listResponse(
          { totalResults: userTotal + (groupPage?.totalResults ?? 0), startIndex },
          resources,
        ),
      };
    }),
  );
  return router;
}
