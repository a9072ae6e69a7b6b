// The `groups` table: every query on it, tenant-scoped. Writes and locked reads take the use
// case's transaction; `findGroup` is a plain read.
import { sql } from 'kysely';
import type { Db, Tx } from '../db/transaction.js';
import { isUuid } from '../ids.js';
import type { Group, GroupAttributes } from './group.js';
import { toGroup } from './group.mapper.js';

/** One group of the tenant by id, or undefined (its members are read apart, a page at a time). */
export async function findGroup(db: Db, tenantId: string, id: string): Promise<Group | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db
    .selectFrom('groups')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toGroup(row) : undefined;
}

/** One group of the tenant by id, locked FOR UPDATE until the transaction ends. */
export async function lockGroupById(
  tx: Tx,
  tenantId: string,
  id: string,
): Promise<Group | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await tx
    .selectFrom('groups')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row ? toGroup(row) : undefined;
}

/** The ids among `ids` that are groups of the tenant, held FOR SHARE until the transaction ends. */
export async function shareLockGroupIds(
  tx: Tx,
  tenantId: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .selectFrom('groups')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .forShare()
    .execute();
  return rows.map((r) => r.id);
}

export async function insertScimGroup(
  tx: Tx,
  tenantId: string,
  attributes: GroupAttributes,
  now: Date,
): Promise<Group> {
  const row = await tx
    .insertInto('groups')
    .values({
      tenant_id: tenantId,
      display_name: attributes.displayName,
      external_id: attributes.externalId ?? null,
      managed_by: 'scim',
      scim_resource: { ...(attributes.scimResource ?? {}) },
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGroup(row);
}

/**
 * Writes a SCIM change to a locked group (new attributes when given, and who manages it now),
 * bumping its version (the SCIM ETag).
 */
export async function updateScimGroup(
  tx: Tx,
  group: Group,
  attributes: GroupAttributes | undefined,
  managedBy: Group['managedBy'],
  now: Date,
): Promise<Group> {
  const row = await tx
    .updateTable('groups')
    .set((eb) => ({
      ...(attributes
        ? {
            display_name: attributes.displayName,
            ...(attributes.externalId !== undefined ? { external_id: attributes.externalId } : {}),
            ...(attributes.scimResource !== undefined
              ? { scim_resource: { ...attributes.scimResource } }
              : {}),
          }
        : {}),
      managed_by: managedBy,
      version: eb('version', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', group.id)
    .where('tenant_id', '=', group.tenantId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toGroup(row);
}

/** Deletes a locked group; its memberships go with it (foreign keys). */
export async function deleteGroup(tx: Tx, group: Group): Promise<void> {
  await tx
    .deleteFrom('groups')
    .where('tenant_id', '=', group.tenantId)
    .where('id', '=', group.id)
    .execute();
}

/**
 * Creates the JIT groups of these names that do not exist yet. One JIT group per name (index
 * groups_tenant_jit_name): a concurrent sign-in may create one first, and then it is kept.
 */
export async function insertJitGroups(
  tx: Tx,
  tenantId: string,
  names: readonly string[],
  now: Date,
): Promise<Group[]> {
  if (names.length === 0) return [];
  const rows = await tx
    .insertInto('groups')
    .values(
      names.map((name) => ({
        tenant_id: tenantId,
        display_name: name,
        managed_by: 'jit' as const,
        created_at: now,
        updated_at: now,
      })),
    )
    .onConflict((oc) =>
      oc
        .expression(sql`tenant_id, lower(display_name)`)
        .where(sql<boolean>`managed_by = 'jit'`) // a literal: index inference cannot see through a parameter
        .doNothing(),
    )
    .returningAll()
    .execute();
  return rows.map(toGroup);
}

/** The tenant's JIT groups with these names (compared case-insensitively). */
export async function findJitGroupsByName(
  tx: Tx,
  tenantId: string,
  names: readonly string[],
): Promise<{ id: string; displayName: string }[]> {
  if (names.length === 0) return [];
  const rows = await tx
    .selectFrom('groups')
    .select(['id', 'display_name'])
    .where('tenant_id', '=', tenantId)
    .where('managed_by', '=', 'jit')
    .where((eb) =>
      eb(
        eb.fn('lower', [eb.ref('display_name')]),
        'in',
        names.map((name) => name.toLowerCase()),
      ),
    )
    .execute();
  return rows.map((r) => ({ id: r.id, displayName: r.display_name }));
}
