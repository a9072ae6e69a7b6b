import SCIMMY from 'scimmy';
import { toScimError } from '../errors/scim-error.js';
import type { PatchOperation, PatchRequest } from './patch-types.js';
import { PATCH_OP_SCHEMA } from './patch-types.js';
import { declareScimResources } from './scim-resources.js';
import { checkMultiValuedAttributes, settlePrimaries } from '../resources/multi-valued.js';

/**
 * Applies a normalised PATCH to a user's stored SCIM representation (id, schemas, attributes, the
 * enterprise extension under its URN key) with scimmy's PatchOp, in memory. Returns the patched
 * representation, or undefined when nothing changed (the route answers 204). A scimmy error keeps
 * its status and scimType as a ScimError; any other error is a bug and is rethrown.
 */
export async function applyUserPatch(
  current: Record<string, unknown>,
  request: PatchRequest,
): Promise<Record<string, unknown> | undefined> {
  declareScimResources();
  const patched = await applyWith(SCIMMY.Schemas.User, current, request);
  if (patched !== undefined) {
    settlePrimaries('User', current, patched);
    checkMultiValuedAttributes('User', patched);
  }
  return patched;
}

/**
 * The same for a group's attributes (displayName, externalId). `current` must not hold members
 * and `operations` must not touch them: `splitGroupPatch` takes them out first.
 */
export async function applyGroupPatch(
  current: Record<string, unknown>,
  operations: PatchOperation[],
): Promise<Record<string, unknown> | undefined> {
  declareScimResources();
  return applyWith(SCIMMY.Schemas.Group, current, {
    schemas: [PATCH_OP_SCHEMA],
    Operations: operations,
  });
}

type SchemaClass = typeof SCIMMY.Schemas.User | typeof SCIMMY.Schemas.Group;

async function applyWith(
  schema: SchemaClass,
  current: Record<string, unknown>,
  request: PatchRequest,
): Promise<Record<string, unknown> | undefined> {
  // Normalisation may leave nothing to do (an Okta rename that only repeats the id).
  if (request.Operations.length === 0) return undefined;
  try {
    const patchOp = new SCIMMY.Messages.PatchOp(request);
    // The finaliser returns the patched instance as is: the caller persists it.
    const patched: unknown = await patchOp.apply(new schema(current, 'out'), (p) =>
      Promise.resolve(p),
    );
    if (patched === undefined) return undefined;
    return JSON.parse(JSON.stringify(patched)) as Record<string, unknown>;
  } catch (error) {
    throw toScimError(error);
  }
}
