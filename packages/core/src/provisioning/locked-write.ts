// The one concurrency strategy of SCIM writes to users and groups (rule 8, RFC 7644 §3.14): in
// one transaction, lock the resource, check If-Match against the locked version, compute the
// change from the locked resource, write. Concurrent writes of one resource queue on its row
// lock, so none is lost and none needs a retry above this module.
import { inTransaction, type Db, type Tx } from '../db/transaction.js';
import { CoreError, notFound } from '../errors.js';

/** Optional preconditions of a SCIM write (RFC 7644 §3.14). */
export interface WritePreconditions {
  /** The version the caller last saw (`If-Match`); another version is `PreconditionFailed`. */
  readonly ifMatchVersion?: number;
}

/**
 * A change the SCIM adapter computes from the current, locked resource (a PatchOp applied to it).
 * It must be pure: core calls it inside its transaction, and again if the database makes that
 * transaction run again. Undefined: nothing to change.
 */
export type ScimChange<Resource, Change> = (
  current: Resource,
) => Promise<Change | undefined> | Change | undefined;

/** RFC 7644 §3.14: a write that names a version other than the locked row's fails with 412. */
export function assertVersion(
  kind: 'user' | 'group',
  currentVersion: number,
  preconditions: WritePreconditions,
): void {
  const expected = preconditions.ifMatchVersion;
  if (expected !== undefined && expected !== currentVersion)
    throw new CoreError('PreconditionFailed', `the ${kind} changed since version ${expected}`, {
      details: { currentVersion },
    });
}

/**
 * Runs `write` on the resource `lock` finds and locks, after the If-Match check; a resource
 * `lock` does not find is `NotFound`. Serialisation failures and deadlocks run it all again
 * (inTransaction): the only retry of a SCIM write.
 */
export function writeLocked<Resource extends { readonly version: number }, Result>(
  db: Db,
  target: {
    readonly kind: 'user' | 'group';
    readonly id: string;
    readonly lock: (tx: Tx) => Promise<Resource | undefined>;
  },
  preconditions: WritePreconditions,
  write: (tx: Tx, current: Resource) => Promise<Result>,
): Promise<Result> {
  return inTransaction(db, async (tx) => {
    const current = await target.lock(tx);
    if (!current) throw notFound(`${target.kind} ${target.id} does not exist`);
    assertVersion(target.kind, current.version, preconditions);
    return write(tx, current);
  });
}
