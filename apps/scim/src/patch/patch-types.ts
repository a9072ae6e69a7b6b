/** RFC 7644 §3.5.2: the one schema URI a PATCH body carries. */
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Most operations one PATCH may carry. IdPs send one to a handful (Entra ID batches at most a few
 * attribute changes; member changes come as one operation with a value list), so a body beyond
 * this is a mistake or abuse, answered 400 before any work is done.
 */
export const MAX_PATCH_OPERATIONS = 1000;

export const PATCH_OPS = ['add', 'remove', 'replace'] as const;
export type PatchOperationName = (typeof PATCH_OPS)[number];

/** One operation after normalisation: `op` is lower case, `path` (if any) is well formed. */
export interface PatchOperation {
  op: PatchOperationName;
  path?: string;
  value?: unknown;
}

/** A PATCH body after normalisation; accepted as is by `new SCIMMY.Messages.PatchOp(...)`. */
export interface PatchRequest {
  schemas: [typeof PATCH_OP_SCHEMA];
  Operations: PatchOperation[];
}

export type PatchResourceType = 'User' | 'Group';

/** A group member named by a PATCH. `type` is absent when the IdP did not say (Okta never does). */
export interface MemberRef {
  value: string;
  type?: 'User' | 'Group';
}
