import { Migrator, sql, type MigrationResult } from 'kysely';
import type { Logger } from '../logger.js';
import type { RosterDatabase } from './create-db.js';
import { migrations } from './migrations/index.js';

/** Thrown when a migration fails; `results` says which ran and which failed. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly results: readonly MigrationResult[];
  constructor(cause: unknown, results: readonly MigrationResult[]) {
    super(`database migration failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.results = results;
  }
}

/**
 * Brings the schema to the latest migration. Idempotent, and safe when several instances start
 * at once on one PostgreSQL: a session advisory lock serialises them around the whole run,
 * including kysely's creation of its own bookkeeping tables (which would otherwise race).
 *
 * @returns the names of the migrations applied by this call (empty when already up to date).
 */
export async function migrateToLatest(
  database: RosterDatabase,
  logger?: Logger,
): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'roster_migration',
    migrationLockTableName: 'roster_migration_lock',
  });
  const run = async () => {
    const { error, results = [] } = await migrator.migrateToLatest();
    if (error) throw new MigrationError(error, results);
    return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  const applied =
    database.engine === 'pglite'
      ? await run()
      : await database.db.connection().execute(async (connection) => {
          await sql`select pg_advisory_lock(hashtext('roster.migrate'))`.execute(connection);
          try {
            return await run();
          } finally {
            await sql`select pg_advisory_unlock(hashtext('roster.migrate'))`.execute(connection);
          }
        });
  if (applied.length > 0) logger?.info({ migrations: applied }, 'db.migrated');
  return applied;
}
