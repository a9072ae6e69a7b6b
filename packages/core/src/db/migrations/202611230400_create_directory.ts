import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.

const statements = [
  // ---- tenants and their SCIM tokens -------------------------------------------------------
  `create table tenants (
    id uuid primary key default gen_random_uuid(),
    slug text not null,
    grace_period_days integer not null default 90 check (grace_period_days between 0 and 3650),
    cleanup_after_days integer check (cleanup_after_days between 1 and 3650),
    allowed_origins text[] not null default '{}',
    outbox_seq bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tenants_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$')
  )`,
  `create unique index tenants_slug_key on tenants (slug)`,

  `create table scim_tokens (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    secret_hash bytea not null,
    description text,
    created_at timestamptz not null default now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
  )`,
  `create index scim_tokens_tenant on scim_tokens (tenant_id, created_at)`,

  // ---- users -----------------------------------------------------------------------------
  // Promoted, indexed columns for what is matched, filtered and sorted; the full SCIM
  // representation (extensions included) in scim_resource.
  `create table users (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_name text not null,
    user_name_key text not null,
    external_id text,
    display_name text,
    given_name text,
    family_name text,
    lifecycle_state text not null default 'active'
      check (lifecycle_state in ('active', 'inactive', 'deprovisioned')),
    active boolean generated always as (lifecycle_state = 'active') stored,
    inactive_reason text,
    source text not null check (source in ('scim', 'jit')),
    managed_by text not null check (managed_by in ('scim', 'jit')),
    adopted_at timestamptz,
    deprovisioned_at timestamptz,
    purge_after timestamptz,
    last_sign_in_at timestamptz,
    version integer not null default 1,
    scim_resource jsonb not null default '{}',
    password_hash text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- deprovisioned users always wait for a purge date; dormant (inactive) JIT users may too
    -- (rules 5 and 6); active users never do.
    constraint users_purge_date_matches_state check (
      (lifecycle_state = 'deprovisioned' and purge_after is not null)
      or lifecycle_state = 'inactive'
      or (lifecycle_state = 'active' and purge_after is null))
  )`,
  `create unique index users_tenant_user_name_key on users (tenant_id, user_name_key)`,
  `create unique index users_tenant_external_id_key on users (tenant_id, external_id) where external_id is not null`,
  `create index users_tenant_created on users (tenant_id, created_at, id)`,
  `create index users_tenant_display_name on users (tenant_id, lower(display_name))`,
  `create index users_purge_due on users (purge_after) where lifecycle_state = 'deprovisioned'`,
  `create index users_jit_sign_in on users (tenant_id, last_sign_in_at) where managed_by = 'jit'`,

  `create table user_emails (
    user_id uuid not null references users (id) on delete cascade,
    position integer not null,
    tenant_id uuid not null,
    value text not null,
    value_key text not null,
    type text,
    is_primary boolean not null default false,
    primary key (user_id, position)
  )`,
  `create index user_emails_tenant_value on user_emails (tenant_id, value_key)`,

  // ---- groups and memberships (one row per member: a 100k group is never one value) -------
  `create table groups (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    display_name text not null,
    external_id text,
    managed_by text not null check (managed_by in ('scim', 'jit')),
    version integer not null default 1,
    scim_resource jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create index groups_tenant_display_name on groups (tenant_id, lower(display_name))`,
  `create unique index groups_tenant_external_id_key on groups (tenant_id, external_id) where external_id is not null`,
  `create index groups_tenant_created on groups (tenant_id, created_at, id)`,
  // Groups created from an assertion's groups attribute are found by name; one per name.
  `create unique index groups_tenant_jit_name on groups (tenant_id, lower(display_name)) where managed_by = 'jit'`,

  // A member is a user or a group; each has its own foreign key so a member that does not
  // exist cannot be written, and purging a user removes its memberships.
  `create table group_members (
    group_id uuid not null references groups (id) on delete cascade,
    tenant_id uuid not null,
    member_user_id uuid references users (id) on delete cascade,
    member_group_id uuid references groups (id) on delete cascade,
    member_id uuid generated always as (coalesce(member_user_id, member_group_id)) stored,
    created_at timestamptz not null default now(),
    constraint group_members_one_kind check (num_nonnulls(member_user_id, member_group_id) = 1),
    primary key (group_id, member_id)
  )`,
  `create index group_members_member on group_members (tenant_id, member_id)`,

  // ---- SAML --------------------------------------------------------------------------------
  `create table saml_idps (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null,
    entity_id text not null,
    sso_url text not null,
    slo_url text,
    signing_certificates text[] not null,
    want_response_signed boolean not null default true,
    jit_policy text not null default 'create' check (jit_policy in ('create', 'deny')),
    match_by text not null default 'username' check (match_by in ('username', 'email', 'both')),
    attribute_map jsonb not null default '{}',
    groups_attribute text,
    allow_idp_initiated boolean not null default false,
    metadata_xml text,
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  `create unique index saml_idps_tenant_name on saml_idps (tenant_id, name)`,
  `create unique index saml_idps_tenant_entity_id on saml_idps (tenant_id, entity_id)`,

  `create table saml_links (
    idp_id uuid not null references saml_idps (id) on delete cascade,
    name_id text not null,
    tenant_id uuid not null,
    name_id_format text,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    primary key (idp_id, name_id)
  )`,
  `create index saml_links_user on saml_links (user_id)`,

  `create table sessions (
    id_hash bytea primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    idp_id uuid references saml_idps (id) on delete set null,
    name_id text,
    session_index text,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    idle_expires_at timestamptz not null,
    absolute_expires_at timestamptz not null
  )`,
  `create index sessions_user on sessions (user_id)`,
  `create index sessions_expiry on sessions (absolute_expires_at)`,

  // node-saml's CacheProvider (InResponseTo), bound to the browser that started the login.
  `create table saml_request_ids (
    id text primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    idp_id uuid not null references saml_idps (id) on delete cascade,
    browser_binding bytea,
    value text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
  )`,
  `create index saml_request_ids_expiry on saml_request_ids (expires_at)`,

  // Assertion ids seen, so a replay is refused on any instance (node-saml keeps none).
  `create table saml_assertion_ids (
    idp_id uuid not null references saml_idps (id) on delete cascade,
    assertion_id text not null,
    expires_at timestamptz not null,
    primary key (idp_id, assertion_id)
  )`,
  `create index saml_assertion_ids_expiry on saml_assertion_ids (expires_at)`,

  // ---- audit trail and change outbox --------------------------------------------------------
  // No foreign keys: the trail outlives what it talks about.
  `create table audit_events (
    id bigint generated always as identity primary key,
    tenant_id uuid,
    occurred_at timestamptz not null default now(),
    actor_type text not null check (actor_type in ('scim_token', 'idp', 'operator', 'system')),
    actor_id text,
    action text not null,
    target_type text,
    target_id text,
    request_id text,
    changes jsonb
  )`,
  `create index audit_events_tenant_time on audit_events (tenant_id, occurred_at, id)`,
  `create index audit_events_tenant_target on audit_events (tenant_id, target_id, occurred_at)`,

  // seq is allocated per tenant from tenants.outbox_seq inside the writing transaction, so
  // within a tenant the order of seq is the order of commits.
  `create table change_outbox (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    seq bigint not null,
    occurred_at timestamptz not null default now(),
    kind text not null,
    entity_type text not null,
    entity_id uuid not null,
    payload jsonb not null default '{}'
  )`,
  `create unique index change_outbox_tenant_seq on change_outbox (tenant_id, seq)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'change_outbox',
    'audit_events',
    'saml_assertion_ids',
    'saml_request_ids',
    'sessions',
    'saml_links',
    'saml_idps',
    'group_members',
    'groups',
    'user_emails',
    'users',
    'scim_tokens',
    'tenants',
  ]) {
    await sql.raw(`drop table if exists ${table} cascade`).execute(db);
  }
}
