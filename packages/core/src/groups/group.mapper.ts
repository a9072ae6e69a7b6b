// Rows of `groups` <-> the domain Group, in one place.
import type { Selectable } from 'kysely';
import type { GroupTable } from '../db/database.js';
import type { Group } from './group.js';

/** Maps a groups row to the domain Group (the one place that does). */
export function toGroup(row: Selectable<GroupTable>): Group {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    externalId: row.external_id,
    managedBy: row.managed_by,
    version: row.version,
    scimResource: row.scim_resource,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
