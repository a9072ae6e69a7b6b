import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.

const statements = [
  // The delivery queue: a call Roster must make out (a back-channel logout token, a webhook),
  // written in the transaction of the change that causes it and sent by any instance's worker,
  // with retries. `payload` is what the renderer needs to build the request, never a secret.
  `create table outbound_deliveries (
    id bigserial primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    kind text not null,
    target_url text not null,
    payload jsonb not null,
    state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null,
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz not null default now(),
    delivered_at timestamptz
  )`,
  // The worker's claim: the due pending rows, oldest due first.
  `create index outbound_deliveries_due on outbound_deliveries (state, next_attempt_at)
    where state = 'pending'`,
  // Operators' listing: a tenant's newest deliveries; pruning: finished ones by age.
  `create index outbound_deliveries_tenant on outbound_deliveries (tenant_id, id desc)`,
  `create index outbound_deliveries_finished on outbound_deliveries (created_at)
    where state <> 'pending'`,
  // Every attempt of a delivery, gone with it.
  `create table outbound_delivery_attempts (
    delivery_id bigint not null references outbound_deliveries (id) on delete cascade,
    attempt integer not null check (attempt >= 1),
    attempted_at timestamptz not null,
    status integer,
    latency_ms integer check (latency_ms >= 0),
    error text,
    response_excerpt text check (octet_length(response_excerpt) <= 1024),
    primary key (delivery_id, attempt)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('drop table if exists outbound_delivery_attempts').execute(db);
  await sql.raw('drop table if exists outbound_deliveries').execute(db);
}
