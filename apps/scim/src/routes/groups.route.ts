import {
  createGroupFromScim,
  deleteGroupFromScim,
  findGroup,
  listGroupMembers,
  patchGroupFromScim,
  searchGroups,
  updateGroupFromScim,
  type Clock,
  type Db,
  type Group,
  type GroupChange,
} from '@roster/core';
import { ScimError } from '../errors/scim-error.js';
import { notModified, requiredVersion } from '../http/etag.js';
import type { OperationInput, OperationResult } from '../http/operation.js';
import {
  parseListRequest,
  parseProjection,
  type ListRequest,
  type Projection,
} from '../list/list-request.js';
import { applyGroupPatch, normalisePatchRequest, splitGroupPatch } from '../patch/index.js';
import {
  groupAttributesOf,
  groupResource,
  readGroupBody,
  renderGroup,
  type MemberView,
} from '../resources/group-resource.js';
import { listResponse, searchParams } from './list-response.js';
import {
  idOf,
  logQuirks,
  patchThroughCore,
  preconditions,
  type ResourceOperations,
} from './resource-operations.js';

/** Members read per query when a group is shown whole: a 100k group takes 20 keyset pages. */
const MEMBER_PAGE = 5000;

/** RFC 7644 §3 on /Groups of the tenant the token belongs to. */
export function groupOperations(db: Db, clock: Clock): ResourceOperations {
  const groupsUrl = (input: OperationInput) => `${input.baseUrl}/Groups`;

  /** Every member, a keyset page at a time; not read at all when the client excludes members. */
  async function membersOf(group: Group, projection: Projection) {
    if (projection.excludesMembers) return undefined;
    const members: MemberView[] = [];
    let after: string | undefined;
    do {
      const page = await listGroupMembers(db, group.tenantId, group.id, {
        limit: MEMBER_PAGE,
        ...(after !== undefined ? { after } : {}),
      });
      members.push(...page.members);
      after = page.next;
    } while (after !== undefined);
    return members;
  }

  async function present(input: OperationInput, group: Group, projection: Projection) {
    const resource = groupResource(group, await membersOf(group, projection), input.baseUrl);
    return renderGroup(resource, groupsUrl(input), projection.filter);
  }

  /** The group as the write's answer; the projection was parsed before the write. */
  const answer = async (
    input: OperationInput,
    group: Group,
    projection: Projection,
    status: 200 | 201 = 200,
  ): Promise<OperationResult> => {
    const resource = await present(input, group, projection);
    return status === 201
      ? { status, resource, version: group.version, location: `${groupsUrl(input)}/${group.id}` }
      : { status, resource, version: group.version };
  };

  async function listPage(input: OperationInput, request: ListRequest) {
    const page = await searchGroups(db, input.tenant.id, request.query);
    const resources = [];
    for (const group of page.items) resources.push(await present(input, group, request.projection));
    return { page, resources };
  }

  async function list(input: OperationInput, params: Readonly<Record<string, unknown>>) {
    const { page, resources } = await listPage(input, parseListRequest(params, 'Group'));
    return { status: 200 as const, resource: listResponse(page, resources) };
  }

  /**
   * A PATCH as a change of the current, locked group that core hands over: the attributes patched
   * in memory, the member operations as a delta. Members are rows: the group's members are never
   * loaded, so one change costs the same in a group of 10 or of 100k (scimmy's PatchOp would
   * rewrite the whole group). Pure: core may call it again when it retries its transaction.
   */
  async function groupChangeOf(
    input: OperationInput,
    current: Group,
  ): Promise<{ change: GroupChange; quirks: readonly string[] }> {
    const representation = groupResource(current, undefined, input.baseUrl);
    const { request, quirks } = normalisePatchRequest(input.body, 'Group', representation);
    const { members, attributes: attributeOperations } = splitGroupPatch(request);
    const patched =
      attributeOperations.length > 0
        ? await applyGroupPatch(representation, attributeOperations)
        : undefined;
    const change: GroupChange = {
      ...(patched ? { attributes: groupAttributesOf(patched) } : {}),
      members: {
        ...(members.add.length > 0 ? { add: members.add.map((m) => m.value) } : {}),
        ...(members.remove.length > 0 ? { remove: members.remove } : {}),
        ...(members.replaceAll !== undefined
          ? { replaceAll: members.replaceAll.map((m) => m.value) }
          : {}),
      },
    };
    return { change, quirks };
  }

  return {
    listPage: async (input, request) => {
      const { page, resources } = await listPage(input, request);
      return { totalResults: page.totalResults, resources };
    },
    list: (input) => list(input, input.query),
    search: (input) => list(input, searchParams(input.body)),

    async get(input) {
      const projection = parseProjection(input.query, 'Group');
      const group = await findGroup(db, input.tenant.id, idOf(input));
      if (!group) throw notFound(idOf(input));
      if (notModified(input.ifNoneMatch, group.version))
        return { status: 304, version: group.version };
      return {
        status: 200,
        resource: await present(input, group, projection),
        version: group.version,
      };
    },

    async create(input) {
      const projection = parseProjection(input.query, 'Group');
      const { attributes, members, quirks } = readGroupBody(input.body);
      logQuirks(input, quirks);
      const group = await createGroupFromScim(
        db,
        input.tenant.id,
        attributes,
        members ?? [],
        input.context,
        clock,
      );
      return answer(input, group, projection, 201);
    },

    async replace(input) {
      const projection = parseProjection(input.query, 'Group');
      const { attributes, members, quirks } = readGroupBody(input.body, idOf(input));
      logQuirks(input, quirks);
      const version = requiredVersion(input.ifMatch);
      const group = await updateGroupFromScim(
        db,
        input.tenant.id,
        idOf(input),
        {
          attributes,
          // Okta's AIW apps PUT the whole member list; a PUT without `members` leaves them as
          // they are rather than emptying a group by omission (RFC 7644 §3.5.1 allows either).
          ...(members !== undefined ? { members: { replaceAll: members } } : {}),
          ...(version !== undefined ? { ifMatchVersion: version } : {}),
        },
        input.context,
        clock,
      );
      return answer(input, group, projection);
    },

    async patch(input) {
      const projection = parseProjection(input.query, 'Group');
      const group = await patchThroughCore(db, clock, input, patchGroupFromScim, (current) =>
        groupChangeOf(input, current),
      );
      // RFC 7644 §3.5.2: 204 unless the client asked to see the resource (attributes=...);
      // Entra asks servers not to echo members [E1].
      const asksForResource = Object.keys(input.query).some((name) =>
        ['attributes', 'excludedattributes'].includes(name.toLowerCase()),
      );
      if (!asksForResource) return { status: 204, version: group.version };
      return answer(input, group, projection);
    },

    async remove(input) {
      await deleteGroupFromScim(
        db,
        input.tenant.id,
        idOf(input),
        input.context,
        preconditions(input),
      );
      return { status: 204 };
    },
  };
}

const notFound = (id: string) => new ScimError(404, `group ${id} does not exist`);
