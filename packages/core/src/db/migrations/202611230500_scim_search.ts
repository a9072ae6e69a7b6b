import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// Exact per-tenant counts of what a SCIM list returns (users not deprovisioned, every group), so
// an unfiltered list answers totalResults without scanning the table. Statement-level triggers
// with transition tables keep them exact in the writing transaction, and a bulk INSERT ... SELECT
// costs one counter write per statement, not one per row. Each backend writes its own slot
// (pg_backend_pid() % 16), so concurrent writers in one tenant rarely wait on the same row; the
// count is the sum of at most 16 rows. No foreign key to tenants: a cascaded tenant delete fires
// these triggers after the tenant row is gone.

const statements = [
  `create table directory_counts (
    tenant_id uuid not null,
    slot integer not null,
    users bigint not null default 0,
    groups bigint not null default 0,
    primary key (tenant_id, slot)
  )`,

  // delta rows (tenant_id, users, groups) -> added to this backend's slot; zero deltas write nothing
  `create function directory_counts_apply(deltas jsonb) returns void language sql as $$
    insert into directory_counts (tenant_id, slot, users, groups)
    select (d->>'tenant_id')::uuid, pg_backend_pid() % 16, (d->>'users')::bigint, (d->>'groups')::bigint
    from jsonb_array_elements(deltas) d
    on conflict (tenant_id, slot) do update
      set users = directory_counts.users + excluded.users,
          groups = directory_counts.groups + excluded.groups
  $$`,

  `create function users_count_insert() returns trigger language plpgsql as $$
  begin
    perform directory_counts_apply(coalesce(jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'users', n, 'groups', 0)), '[]'))
    from (select tenant_id, count(*) as n from new_rows
          where lifecycle_state <> 'deprovisioned' group by tenant_id) t;
    return null;
  end $$`,
  `create function users_count_delete() returns trigger language plpgsql as $$
  begin
    perform directory_counts_apply(coalesce(jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'users', -n, 'groups', 0)), '[]'))
    from (select tenant_id, count(*) as n from old_rows
          where lifecycle_state <> 'deprovisioned' group by tenant_id) t;
    return null;
  end $$`,
  // An UPDATE changes the count only when it moves a user into or out of 'deprovisioned'.
  `create function users_count_update() returns trigger language plpgsql as $$
  begin
    perform directory_counts_apply(coalesce(jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'users', n, 'groups', 0)), '[]'))
    from (select tenant_id, sum(d) as n from (
            select tenant_id, 1 as d from new_rows where lifecycle_state <> 'deprovisioned'
            union all
            select tenant_id, -1 as d from old_rows where lifecycle_state <> 'deprovisioned') x
          group by tenant_id having sum(d) <> 0) t;
    return null;
  end $$`,
  `create function groups_count_insert() returns trigger language plpgsql as $$
  begin
    perform directory_counts_apply(coalesce(jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'users', 0, 'groups', n)), '[]'))
    from (select tenant_id, count(*) as n from new_rows group by tenant_id) t;
    return null;
  end $$`,
  `create function groups_count_delete() returns trigger language plpgsql as $$
  begin
    perform directory_counts_apply(coalesce(jsonb_agg(jsonb_build_object('tenant_id', tenant_id, 'users', 0, 'groups', -n)), '[]'))
    from (select tenant_id, count(*) as n from old_rows group by tenant_id) t;
    return null;
  end $$`,

  // Transition tables allow one event per trigger, hence three (two) triggers.
  `create trigger users_count_insert after insert on users
    referencing new table as new_rows for each statement execute function users_count_insert()`,
  `create trigger users_count_delete after delete on users
    referencing old table as old_rows for each statement execute function users_count_delete()`,
  `create trigger users_count_update after update on users
    referencing old table as old_rows new table as new_rows
    for each statement execute function users_count_update()`,
  `create trigger groups_count_insert after insert on groups
    referencing new table as new_rows for each statement execute function groups_count_insert()`,
  `create trigger groups_count_delete after delete on groups
    referencing old table as old_rows for each statement execute function groups_count_delete()`,

  // Whatever is already there.
  `insert into directory_counts (tenant_id, slot, users, groups)
    select tenant_id, 0, sum(users), sum(groups) from (
      select tenant_id, count(*) as users, 0 as groups from users
        where lifecycle_state <> 'deprovisioned' group by tenant_id
      union all
      select tenant_id, 0, count(*) from groups group by tenant_id) x
    group by tenant_id`,

  // Keyset pages of a group's members (group_id, member_id) use the primary key; the user side
  // of memberships (a user's groups, members.value filters) uses group_members_member.
  // Listing users skips deprovisioned ones in the created order.
  `create index users_tenant_listable_created on users (tenant_id, created_at, id)
    where lifecycle_state <> 'deprovisioned'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    'drop index if exists users_tenant_listable_created',
    'drop trigger if exists users_count_insert on users',
    'drop trigger if exists users_count_delete on users',
    'drop trigger if exists users_count_update on users',
    'drop trigger if exists groups_count_insert on groups',
    'drop trigger if exists groups_count_delete on groups',
    'drop function if exists users_count_insert()',
    'drop function if exists users_count_delete()',
    'drop function if exists users_count_update()',
    'drop function if exists groups_count_insert()',
    'drop function if exists groups_count_delete()',
    'drop function if exists directory_counts_apply(jsonb)',
    'drop table if exists directory_counts',
  ]) {
    await sql.raw(statement).execute(db);
  }
}
