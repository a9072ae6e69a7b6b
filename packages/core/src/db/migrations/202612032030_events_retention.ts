import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// How far each tenant's events were pruned: every outbox row up to pruned_seq may be gone, so a
// reader asking for what comes after an earlier seq is told so instead of silently missing them.
// Its own table rather than a column of tenants: every write of a tenant holds the tenant row
// from its outbox append to commit, and the pruner must never queue behind (or ahead of) them.

const statements = [
  `create table events_pruned (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    pruned_seq bigint not null check (pruned_seq >= 0),
    pruned_at timestamptz not null default now()
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop table if exists events_pruned`).execute(db);
}
