import {
  createUserFromScim,
  deleteUserFromScim,
  findUser,
  groupsOfUsers,
  patchUserFromScim,
  searchUsers,
  type Clock,
  type Db,
  type User,
} from '@roster/core';
import { ScimError } from '../errors/scim-error.js';
import { notModified } from '../http/etag.js';
import type { OperationInput } from '../http/operation.js';
import {
  parseListRequest,
  parseProjection,
  type ListRequest,
  type Projection,
} from '../list/list-request.js';
import { applyUserPatch, normalisePatchRequest } from '../patch/index.js';
import {
  type UserGroupRef,
  readUserBody,
  renderUser,
  userAttributesOf,
  userResource,
} from '../resources/user-resource.js';
import { listResponse, searchParams } from './list-response.js';
import {
  idOf,
  logQuirks,
  patchThroughCore,
  preconditions,
  type ResourceOperations,
} from './resource-operations.js';

/** RFC 7644 §3 on /Users of the tenant the token belongs to. */
export function userOperations(db: Db, clock: Clock): ResourceOperations {
  const usersUrl = (input: OperationInput) => `${input.baseUrl}/Users`;

  /** The user as the client asked to see it (its groups read in one query). */
  async function present(
    input: OperationInput,
    user: User,
    projection: Projection,
    knownGroups?: readonly UserGroupRef[],
  ) {
    const groups =
      knownGroups ?? (await groupsOfUsers(db, user.tenantId, [user.id])).get(user.id) ?? [];
    return renderUser(
      userResource(user, groups, usersUrl(input)),
      usersUrl(input),
      projection.filter,
    );
  }

  /**
   * The user as the write's answer, in the projection the client asked for. The projection is
   * parsed before the write (writeProjection), so a bad `attributes` never follows a change.
   */
  const answer = async (
    input: OperationInput,
    user: User,
    projection: Projection,
    status: 200 | 201 = 200,
    knownGroups?: readonly UserGroupRef[],
  ) => {
    const resource = await present(input, user, projection, knownGroups);
    return status === 201
      ? { status, resource, version: user.version, location: `${usersUrl(input)}/${user.id}` }
      : { status, resource, version: user.version };
  };

  async function listPage(input: OperationInput, request: ListRequest) {
    const page = await searchUsers(db, input.tenant.id, request.query);
    const groups = await groupsOfUsers(
      db,
      input.tenant.id,
      page.items.map((u) => u.id),
    );
    const resources = page.items.map((user) =>
      renderUser(
        userResource(user, groups.get(user.id) ?? [], usersUrl(input)),
        usersUrl(input),
        request.projection.filter,
      ),
    );
    return { page, resources };
  }

  async function list(input: OperationInput, params: Readonly<Record<string, unknown>>) {
    const { page, resources } = await listPage(input, parseListRequest(params, 'User'));
    return { status: 200 as const, resource: listResponse(page, resources) };
  }

  return {
    listPage: async (input, request) => {
      const { page, resources } = await listPage(input, request);
      return { totalResults: page.totalResults, resources };
    },
    list: (input) => list(input, input.query),
    // RFC 7644 §3.4.3: the same query in a body, so filters with personal data stay out of URLs.
    search: (input) => list(input, searchParams(input.body)),

    async get(input) {
      const projection = parseProjection(input.query, 'User');
      const user = await findUser(db, input.tenant.id, idOf(input));
      if (!user) throw notFound(idOf(input));
      // RFC 7644 §3.14: the client's copy is current.
      if (notModified(input.ifNoneMatch, user.version))
        return { status: 304, version: user.version };
      return {
        status: 200,
        resource: await present(input, user, projection),
        version: user.version,
      };
    },

    async create(input) {
      const projection = parseProjection(input.query, 'User');
      const { attributes, quirks } = readUserBody(input.body);
      logQuirks(input, quirks);
      const { user, outcome } = await createUserFromScim(
        db,
        input.tenant.id,
        attributes,
        input.context,
        clock,
      );
      // A user created just now is in no group yet; an adopted or restored one may be.
      return answer(input, user, projection, 201, outcome === 'created' ? [] : undefined);
    },

    async replace(input) {
      const projection = parseProjection(input.query, 'User');
      const { representation, quirks } = readUserBody(input.body, idOf(input));
      logQuirks(input, quirks);
      // Core's replace, given the current user so that an unchanged manager is not checked again.
      const user = await patchUserFromScim(
        db,
        input.tenant.id,
        idOf(input),
        (current) => userAttributesOf(representation, current),
        input.context,
        clock,
        preconditions(input),
      );
      return answer(input, user, projection);
    },

    async patch(input) {
      const projection = parseProjection(input.query, 'User');
      // RFC 7644 §3.5.2: the operations apply to the current resource, which core locks and
      // hands to this pure function (core may call it again when it retries its transaction).
      const user = await patchThroughCore(db, clock, input, patchUserFromScim, async (current) => {
        // `groups` is readOnly (RFC 7643 §4.1.2), so the patch never needs it; reading it here
        // would also wait for a second connection while this transaction holds the row.
        const representation = userResource(current, [], usersUrl(input));
        const { request, quirks } = normalisePatchRequest(input.body, 'User', representation);
        const patched = await applyUserPatch(representation, request);
        const change = patched === undefined ? undefined : userAttributesOf(patched, current);
        return { change, quirks };
      });
      return answer(input, user, projection);
    },

    async remove(input) {
      await deleteUserFromScim(
        db,
        input.tenant.id,
        idOf(input),
        input.context,
        clock,
        preconditions(input),
      );
      return { status: 204 };
    },
  };
}

const notFound = (id: string) => new ScimError(404, `user ${id} does not exist`);
