import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// Outbox rows carry the user after each change (names, emails): a purge must find that user's
// rows to redact them, as it does the audit trail's, without reading the whole outbox.

const statements = [
  `create index change_outbox_tenant_entity on change_outbox (tenant_id, entity_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop index if exists change_outbox_tenant_entity`).execute(db);
}
