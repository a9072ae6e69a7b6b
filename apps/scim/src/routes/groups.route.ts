import {
  CoreError,
  createGroupFromScim,
  deleteGroupFromScim,
  findGroup,
  listGroupMembers,
  searchGroups,
  updateGroupFromScim,
  type Clock,
  type Db,
  type Group,
  type MemberChange,
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
import { idOf, logQuirks, preconditions, type ResourceOperations } from './users.route.js';

/** Members read per query when a group is shown whole: a 100k group takes 20 keyset pages. */
const MEMBER_PAGE = 5000;
/** Retries of a PATCH whose group changed between our read and our write (no If-Match sent). */
const PATCH_ATTEMPTS = 3;

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

  /** One attempt at a PATCH: read, patch the attributes in memory, write members as a delta. */
  async function patchOnce(input: OperationInput): Promise<Group> {
    const current = await findGroup(db, input.tenant.id, idOf(input));
    if (!current) throw notFound(idOf(input));
    // Members are rows: member operations become a delta and the group's members are never
    // loaded, so one change costs the same in a group of 10 or of 100k (scimmy's PatchOp would
    // rewrite the whole group).
    const representation = groupResource(current, undefined, input.baseUrl);
    const { request, quirks } = normalisePatchRequest(input.body, 'Group', representation);
    logQuirks(input, quirks);
    const { members, attributes: attributeOperations } = splitGroupPatch(request);
    const patched =
      attributeOperations.length > 0
        ? await applyGroupPatch(representation, attributeOperations)
        : undefined;
    const memberChange: MemberChange = {
      ...(members.add.length > 0 ? { add: members.add.map((m) => m.value) } : {}),
      ...(members.remove.length > 0 ? { remove: members.remove } : {}),
      ...(members.replaceAll !== undefined
        ? { replaceAll: members.replaceAll.map((m) => m.value) }
        : {}),
    };
    // Attributes were patched from `current`: written only if nobody changed the group since.
    const ifMatchVersion =
      requiredVersion(input.ifMatch) ?? (patched ? current.version : undefined);
    return updateGroupFromScim(
      db,
      input.tenant.id,
      current.id,
      {
        ...(patched ? { attributes: groupAttributesOf(patched) } : {}),
        members: memberChange,
        ...(ifMatchVersion !== undefined ? { ifMatchVersion } : {}),
      },
      input.context,
      clock,
    );
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
      let group: Group | undefined;
      for (let attempt = 1; !group; attempt++) {
        try {
          group = await patchOnce(input);
        } catch (error) {
          const raced =
            error instanceof CoreError &&
            error.code === 'PreconditionFailed' &&
            input.ifMatch === undefined;
          if (!raced || attempt >= PATCH_ATTEMPTS) throw error;
        }
      }
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
