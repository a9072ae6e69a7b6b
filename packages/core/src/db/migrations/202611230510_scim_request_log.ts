import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.

const statements = [
  // Every SCIM request that reached a tenant and its answer, kept SCIM_LOG_RETENTION_DAYS, so an
  // operator can see why an IdP keeps retrying. Bodies are redacted and capped before they are
  // written (core/src/scim-log/redaction.ts); headers are never stored.
  `create table scim_request_log (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    occurred_at timestamptz not null default now(),
    request_id text not null,
    method text not null,
    path text not null,
    status integer not null check (status between 100 and 599),
    duration_ms integer not null check (duration_ms >= 0),
    token_id uuid,
    user_agent text,
    request_body jsonb,
    response_body jsonb
  )`,
  // Listing: a tenant's newest entries first.
  `create index scim_request_log_tenant_time on scim_request_log (tenant_id, occurred_at desc, id)`,
  // Pruning: the oldest entries of every tenant, a batch at a time.
  `create index scim_request_log_time on scim_request_log (occurred_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists scim_request_log').execute(db);
}
