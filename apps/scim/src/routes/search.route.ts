// RFC 7644 §3.4.3: POST /.search at the root searches Users and Groups together.
import { Router } from 'express';
import { handle } from '../http/operation.js';
import { parseRootSearch } from '../list/list-request.js';
import { listResponse, searchParams } from './list-response.js';
import type { ResourceOperations } from './resource-operations.js';

/**
 * Users first, then Groups, as one list. The SearchRequest is parsed once (parseRootSearch): the
 * page is the whole list's, and each type gets its filter, sort and projection; a type the filter
 * cannot match is left out. Cursor paging is per resource type only.
 */
export function rootSearchRouter(users: ResourceOperations, groups: ResourceOperations): Router {
  const router = Router({ mergeParams: true });
  router.post(
    '/.search',
    handle(async (input) => {
      const search = parseRootSearch(searchParams(input.body));
      const { startIndex, count } = search;
      const userPage = search.users
        ? await users.listPage(input, search.users.page(startIndex, count))
        : { totalResults: 0, resources: [] };
      // The groups' part starts where the users end: index (startIndex - users) of the groups.
      const groupStart = Math.max(1, startIndex - userPage.totalResults);
      const groupCount = Math.max(0, count - userPage.resources.length);
      const groupPage = search.groups
        ? await groups.listPage(input, search.groups.page(groupStart, groupCount))
        : { totalResults: 0, resources: [] };
      return {
        status: 200,
        resource: listResponse(
          { totalResults: userPage.totalResults + groupPage.totalResults, startIndex },
          [...userPage.resources, ...groupPage.resources],
        ),
      };
    }),
  );
  return router;
}
