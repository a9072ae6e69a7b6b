import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.

const statements = [
  // A tenant's webhook endpoints. Each follows the tenant's event sequence (change_outbox.seq)
  // with its own cursor, delivered_seq: every event up to it was delivered (a 2xx answer), the
  // next one is sent only after that, so each endpoint gets its events in order. `secret` is
  // the Standard Webhooks signing secret (whsec_...), kept as is because the HMAC needs it;
  // after a rotation the previous one keeps signing beside it until previous_secret_expires_at.
  // A worker claims a due endpoint by setting lease_until and a fresh lease_token; only the
  // holder of the current token may move the cursor.
  `create table webhook_endpoints (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    url text not null,
    event_types text[] not null default '{}',
    format text not null default 'standard' check (format in ('standard', 'scim-events')),
    secret text not null,
    previous_secret text,
    previous_secret_expires_at timestamptz,
    state text not null default 'enabled' check (state in ('enabled', 'disabled')),
    disabled_reason text,
    delivered_seq bigint not null check (delivered_seq >= 0),
    failing_since timestamptz,
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null,
    lease_until timestamptz,
    lease_token uuid,
    last_delivered_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create index webhook_endpoints_tenant on webhook_endpoints (tenant_id, created_at)`,
  // The worker's claim: enabled endpoints by when they are due.
  `create index webhook_endpoints_due on webhook_endpoints (next_attempt_at)
    where state = 'enabled'`,
  // Every attempt to send an event (or a ping) to an endpoint, successful or not: the delivery
  // log operators read, newest first.
  `create table webhook_attempts (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    event_id text not null,
    event_type text not null,
    attempt integer not null check (attempt >= 1),
    attempted_at timestamptz not null,
    status integer,
    latency_ms integer check (latency_ms >= 0),
    error text,
    response_excerpt text check (octet_length(response_excerpt) <= 1024)
  )`,
  `create index webhook_attempts_endpoint on webhook_attempts (endpoint_id, id desc)`,
  // Pruning by age.
  `create index webhook_attempts_attempted_at on webhook_attempts (attempted_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists webhook_attempts').execute(db);
  await sql.raw('drop table if exists webhook_endpoints').execute(db);
}
