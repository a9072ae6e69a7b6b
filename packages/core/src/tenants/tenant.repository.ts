import type { Selectable } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { ChangeContext } from '../context/actor.js';
import type { TenantTable } from '../db/database.js';
import { inTransaction, type Db } from '../db/transaction.js';
import { conflict, notFound, PG_UNIQUE_VIOLATION, sqlState } from '../errors.js';
import {
  assertValidSlug,
  normaliseSettingsChange,
  type Tenant,
  type TenantSettingsChange,
} from './tenant.js';

/**
 * Creates a tenant. A slug already taken is a `Conflict` (decided by the unique index, not by
 * looking first).
 *
 * @example
 * const acme = await createTenant(db, 'acme', { actor: { type: 'operator', id: 'cli' } });
 */
export async function createTenant(
  db: Db,
  slug: string,
  context: ChangeContext,
  settings: TenantSettingsChange = {},
): Promise<Tenant> {
  assertValidSlug(slug);
  const s = normaliseSettingsChange(settings);
  try {
    return await inTransaction(db, async (tx) => {
      const row = await tx
        .insertInto('tenants')
        .values({
          slug,
          ...(s.gracePeriodDays !== undefined ? { grace_period_days: s.gracePeriodDays } : {}),
          cleanup_after_days: s.cleanupAfterDays ?? null,
          ...(s.allowedOrigins ? { allowed_origins: [...s.allowedOrigins] } : {}),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const tenant = toTenant(row);
      await recordAudit(tx, tenant.id, context, {
        action: 'tenant.created',
        target: { type: 'tenant', id: tenant.id },
        changes: {
          slug,
          gracePeriodDays: tenant.gracePeriodDays,
          cleanupAfterDays: tenant.cleanupAfterDays,
          allowedOrigins: tenant.allowedOrigins,
        },
      });
      return tenant;
    });
  } catch (error) {
    if (sqlState(error) === PG_UNIQUE_VIOLATION)
      throw conflict(`tenant "${slug}" already exists`, { slug });
    throw error;
  }
}

export async function listTenants(db: Db): Promise<Tenant[]> {
  const rows = await db.selectFrom('tenants').selectAll().orderBy('slug').execute();
  return rows.map(toTenant);
}

export async function findTenantBySlug(db: Db, slug: string): Promise<Tenant | undefined> {
  const row = await db
    .selectFrom('tenants')
    .selectAll()
    .where('slug', '=', slug)
    .executeTakeFirst();
  return row && toTenant(row);
}

export async function findTenantById(db: Db, id: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toTenant(row);
}

/** Like {@link findTenantBySlug}, but a missing tenant is a `NotFound` error. */
export async function getTenantBySlug(db: Db, slug: string): Promise<Tenant> {
  const tenant = await findTenantBySlug(db, slug);
  if (!tenant) throw notFound(`tenant "${slug}" does not exist`, { slug });
  return tenant;
}

/** Changes a tenant's settings; the audit event records each changed value before and after. */
export async function updateTenantSettings(
  db: Db,
  slug: string,
  change: TenantSettingsChange,
  context: ChangeContext,
): Promise<Tenant> {
  const s = normaliseSettingsChange(change);
  return inTransaction(db, async (tx) => {
    const before = await tx
      .selectFrom('tenants')
      .selectAll()
      .where('slug', '=', slug)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound(`tenant "${slug}" does not exist`, { slug });
    const row = await tx
      .updateTable('tenants')
      .set({
        ...(s.gracePeriodDays !== undefined ? { grace_period_days: s.gracePeriodDays } : {}),
        ...(s.cleanupAfterDays !== undefined ? { cleanup_after_days: s.cleanupAfterDays } : {}),
        ...(s.allowedOrigins !== undefined ? { allowed_origins: [...s.allowedOrigins] } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const [was, now] = [toTenant(before), toTenant(row)];
    const changes: Record<string, { before: unknown; after: unknown }> = {};
    for (const key of ['gracePeriodDays', 'cleanupAfterDays', 'allowedOrigins'] as const) {
      if (JSON.stringify(was[key]) !== JSON.stringify(now[key]))
        changes[key] = { before: was[key], after: now[key] };
    }
    if (Object.keys(changes).length > 0) {
      await recordAudit(tx, now.id, context, {
        action: 'tenant.settings_changed',
        target: { type: 'tenant', id: now.id },
        changes,
      });
    }
    return now;
  });
}

/** Maps a tenants row to the domain type (the one place that knows both shapes). */
export function toTenant(row: Selectable<TenantTable>): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    gracePeriodDays: row.grace_period_days,
    cleanupAfterDays: row.cleanup_after_days,
    allowedOrigins: row.allowed_origins,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The tenant's grace period in days: how long a deprovisioned user waits for its purge (rule 5). */
export async function tenantGracePeriod(db: Db, tenantId: string): Promise<number> {
  const tenant = await db
    .selectFrom('tenants')
    .select('grace_period_days')
    .where('id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return tenant.grace_period_days;
}
