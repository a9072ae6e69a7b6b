import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// The OpenID Provider's registry: a tenant's apps (OAuth 2.0 clients) and its signing keys.

const statements = [
  // kind 'app' is a relying party (authorization code flow); 'scim' a SCIM client that gets
  // access tokens by the client credentials grant (RFC 6749 §4.4).
  `create table oidc_apps (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    client_id text not null,
    kind text not null check (kind in ('app', 'scim')),
    name text not null,
    redirect_uris jsonb not null default '[]',
    post_logout_redirect_uris jsonb not null default '[]',
    is_public boolean not null,
    backchannel_logout_uri text,
    secret_hash bytea,
    secret_rotated_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- a public client has no secret (RFC 6749 §2.1)
    constraint oidc_apps_public_without_secret check (not (is_public and secret_hash is not null))
  )`,
  `create unique index oidc_apps_tenant_client_id on oidc_apps (tenant_id, client_id)`,
  // Client ids are random and unique across tenants too, so one never names two apps.
  `create unique index oidc_apps_client_id on oidc_apps (client_id)`,

  // Keys are published one rotation before they sign ('next') and kept one rotation or two after
  // ('retired'), so relying parties that cache the JWKS verify every token (OIDC Core §10.1.1).
  `create table oidc_signing_keys (
    tenant_id uuid not null references tenants (id) on delete cascade,
    kid text not null,
    status text not null check (status in ('next', 'current', 'retired')),
    private_jwk jsonb not null,
    created_at timestamptz not null default now(),
    promoted_at timestamptz,
    retired_at timestamptz,
    primary key (tenant_id, kid)
  )`,
  // At most one current and one next key per tenant: the arbiter of concurrent first loads.
  `create unique index oidc_signing_keys_one_per_status on oidc_signing_keys (tenant_id, status)
    where status in ('current', 'next')`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop table if exists oidc_signing_keys`).execute(db);
  await sql.raw(`drop table if exists oidc_apps`).execute(db);
}
