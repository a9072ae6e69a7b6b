import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// What the OpenID Provider (oidc-provider, one per tenant) keeps, beside the apps and keys.

const statements = [
  // One table for every oidc-provider model (Session, Interaction, AuthorizationCode,
  // AccessToken, Grant, ...), keyed by tenant, model and the id the library gives it. The
  // promoted columns are what its adapter interface looks up by (grant id, session uid) and
  // what Roster ends at once (every grant and token of a person: account_id).
  `create table oidc_payloads (
    tenant_id uuid not null references tenants (id) on delete cascade,
    model text not null,
    id text not null,
    payload jsonb not null,
    grant_id text,
    uid text,
    account_id text,
    expires_at timestamptz,
    consumed_at timestamptz,
    primary key (tenant_id, model, id)
  )`,
  `create index oidc_payloads_grant on oidc_payloads (tenant_id, grant_id) where grant_id is not null`,
  `create unique index oidc_payloads_uid on oidc_payloads (tenant_id, model, uid) where uid is not null`,
  `create index oidc_payloads_account on oidc_payloads (tenant_id, account_id) where account_id is not null`,
  `create index oidc_payloads_expiry on oidc_payloads (expires_at) where expires_at is not null`,
  // Which apps were signed in through which Roster session: who hears of its end (OpenID
  // Connect Back-Channel Logout 1.0) and whose grants die with it. One row per (provider
  // session, app); session_id_hash is the Roster session's key (sessions.id_hash).
  `create table oidc_app_sessions (
    tenant_id uuid not null references tenants (id) on delete cascade,
    provider_session_uid text not null,
    client_id text not null,
    session_id_hash bytea not null,
    account_id uuid not null,
    sid text not null,
    grant_id text,
    created_at timestamptz not null default now(),
    primary key (tenant_id, provider_session_uid, client_id)
  )`,
  `create index oidc_app_sessions_session on oidc_app_sessions (tenant_id, session_id_hash)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop table if exists oidc_app_sessions`).execute(db);
  await sql.raw(`drop table if exists oidc_payloads`).execute(db);
}
