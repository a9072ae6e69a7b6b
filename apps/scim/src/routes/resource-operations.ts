// What every SCIM resource type's routes share: the operations a type provides, how they mount on
// its endpoint (RFC 7644 §3.2), and how a PATCH goes through core's one write strategy.
import { Router } from 'express';
import type { ChangeContext, Clock, Db, ScimChange, WritePreconditions } from '@roster/core';
import { requiredVersion } from '../http/etag.js';
import { handle, type Operation, type OperationInput } from '../http/operation.js';
import type { ListRequest } from '../list/list-request.js';

export interface ResourceOperations {
  /** One page of a list request already parsed (the root search parses once for both types). */
  readonly listPage: (
    input: OperationInput,
    request: ListRequest,
  ) => Promise<{ totalResults: number; resources: Record<string, unknown>[] }>;
  readonly list: Operation;
  readonly search: Operation;
  readonly get: Operation;
  readonly create: Operation;
  readonly replace: Operation;
  readonly patch: Operation;
  readonly remove: Operation;
}

export const preconditions = (input: OperationInput) => {
  const version = requiredVersion(input.ifMatch);
  return version === undefined ? {} : { ifMatchVersion: version };
};

/** The `:id` of the operation's path ('' for none: no resource has it, so it is a 404). */
export const idOf = (input: OperationInput): string => input.id ?? '';

/** Each IdP quirk a request needed, in the log: what was rewritten, never the values. */
export function logQuirks(input: OperationInput, quirks: readonly string[]): void {
  if (quirks.length > 0) input.log.info({ quirks }, 'scim.request.normalised');
}

/** Core's PATCH of a resource type: `patchUserFromScim`, `patchGroupFromScim`. */
type CorePatch<Resource, Change> = (
  db: Db,
  tenantId: string,
  id: string,
  change: ScimChange<Resource, Change>,
  context: ChangeContext,
  clock: Clock,
  preconditions: WritePreconditions,
) => Promise<Resource>;

/**
 * A PATCH through core's one write strategy: core locks the resource, checks If-Match, and hands
 * the locked resource to `compute`, which applies the request's operations in memory (pure: core
 * may run it again when it retries). The quirks of the run that counted are logged.
 */
export async function patchThroughCore<Resource, Change>(
  db: Db,
  clock: Clock,
  input: OperationInput,
  corePatch: CorePatch<Resource, Change>,
  compute: (
    current: Resource,
  ) => Promise<{ change: Change | undefined; quirks: readonly string[] }>,
): Promise<Resource> {
  let quirks: readonly string[] = [];
  const change = async (current: Resource) => {
    const computed = await compute(current);
    quirks = computed.quirks;
    return computed.change;
  };
  return corePatch(
    db,
    input.tenant.id,
    idOf(input),
    change,
    input.context,
    clock,
    preconditions(input),
  ).finally(() => logQuirks(input, quirks));
}

/** Mounts a resource type's operations on its endpoint (RFC 7644 §3.2). */
export function resourceRouter(operations: ResourceOperations): Router {
  const router = Router({ mergeParams: true });
  router.get('/', handle(operations.list));
  router.post('/.search', handle(operations.search));
  router.get('/:id', handle(operations.get));
  router.post('/', handle(operations.create));
  router.put('/:id', handle(operations.replace));
  router.patch('/:id', handle(operations.patch));
  router.delete('/:id', handle(operations.remove));
  return router;
}
