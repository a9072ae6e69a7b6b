/**
 * SCIM PATCH (RFC 7644 §3.5.2) for Users and Groups, with the forms Entra ID, Okta and JumpCloud
 * send (each with its source in test/interop/fixtures). Pure functions of the current resource:
 * the routes hand them to core, which runs them on the locked row (patchUserFromScim,
 * patchGroupFromScim). Route flow:
 *   Users:  normalisePatchRequest → applyUserPatch → new attributes, or undefined (no change).
 *   Groups: normalisePatchRequest → splitGroupPatch → member delta (SQL) + applyGroupPatch.
 * Log the `quirks` lines that normalisePatchRequest returns.
 */
export { normalisePatchRequest } from './normalise-patch-request.js';
export { applyUserPatch, applyGroupPatch } from './apply-patch.js';
export { toScimError } from '../errors/scim-error.js';
export { splitGroupPatch, type MemberDelta } from './group-members.js';
export { declareScimResources } from './scim-resources.js';
export { parsePatchPath, formatPatchPath, type PatchPath } from './patch-path.js';
export {
  MAX_PATCH_OPERATIONS,
  PATCH_OP_SCHEMA,
  type MemberRef,
  type PatchOperation,
  type PatchRequest,
  type PatchResourceType,
} from './patch-types.js';
