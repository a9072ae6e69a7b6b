// Seeding by plain SQL (INSERT … SELECT generate_series), in batches with progress lines: a
// million users through the HTTP API would take longer than the whole benchmark. Rows look like
// what the SCIM routes write: promoted columns, one work email, the SCIM representation in
// scim_resource. Statement-level triggers (per-tenant counters) fire as for any insert.
/* global console, performance */

/** Users per INSERT statement (one transaction each). */
export const SEED_BATCH = 50_000;

/** User number i of a seeded tenant: its userName and its one (work, primary) email. */
export const seededUserName = (i) => `User${i}@Bench.Example`;
export const seededEmail = (i) => `bench.user${i}@mail.example`;

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

// $1 tenant, $2..$3 user numbers. created_at is one millisecond apart per user so that paging
// by (created_at, id) sees distinct, realistic timestamps. userName and emails are ASCII, so
// lower() is the NFC-lower identity key core computes.
const INSERT_USERS = `
with seeded as (
  select i, 'User' || i || '@Bench.Example' as user_name, 'bench.user' || i || '@mail.example' as email,
         timestamptz '2026-01-01T00:00:00Z' + i * interval '1 millisecond' as at
  from generate_series($2::int, $3::int) as i
), inserted as (
  insert into users (tenant_id, user_name, user_name_key, external_id, display_name, given_name,
                     family_name, source, managed_by, scim_resource, created_at, updated_at)
  select $1::uuid, user_name, lower(user_name), 'ext-' || i, 'Bench User ' || i, 'Bench', 'User' || i,
         'scim', 'scim',
         jsonb_build_object(
           'schemas', jsonb_build_array('${USER_SCHEMA}'),
           'userName', user_name,
           'externalId', 'ext-' || i,
           'displayName', 'Bench User ' || i,
           'name', jsonb_build_object('givenName', 'Bench', 'familyName', 'User' || i),
           'emails', jsonb_build_array(jsonb_build_object('value', email, 'type', 'work', 'primary', true)),
           'active', true),
         at, at
  from seeded
  returning id, scim_resource #>> '{emails,0,value}' as email
)
insert into user_emails (user_id, position, tenant_id, value, value_key, type, is_primary)
select id, 0, $1::uuid, email, lower(email), 'work', true from inserted`;

/** Batches in flight at once (2 was no faster than 1 on the 2-core project box: WAL-bound). */
export const SEED_PARALLEL = 1;

/**
 * Inserts users 1..count into the tenant in batches, printing a progress line per batch;
 * returns the seconds it took.
 */
export async function seedUsers(pool, tenantId, count, label) {
  const started = performance.now();
  let nextFrom = 1;
  let done = 0;
  await Promise.all(
    Array.from({ length: SEED_PARALLEL }, async () => {
      while (nextFrom <= count) {
        const from = nextFrom;
        const to = Math.min(count, from + SEED_BATCH - 1);
        nextFrom = to + 1;
        await pool.query(INSERT_USERS, [tenantId, from, to]);
        done += to - from + 1;
        if (count > SEED_BATCH) {
          const elapsed = (performance.now() - started) / 1000;
          console.log(
            `  seeding ${label}: ${done.toLocaleString('en')} / ${count.toLocaleString('en')} users, ${elapsed.toFixed(1)} s (${Math.round(done / elapsed).toLocaleString('en')} users/s)`,
          );
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * A SCIM-managed group whose members are seeded users first..last (found by their identity
 * key); returns { id, seconds }.
 */
export async function seedGroup(pool, tenantId, displayName, first, last) {
  const started = performance.now();
  const {
    rows: [group],
  } = await pool.query(
    `insert into groups (tenant_id, display_name, external_id, managed_by, scim_resource)
     values ($1, $2, $3, 'scim', jsonb_build_object('schemas', jsonb_build_array('${GROUP_SCHEMA}'),
             'displayName', $2::text, 'externalId', $3::text))
     returning id`,
    [tenantId, displayName, `ext-${displayName}`],
  );
  for (let from = first; from <= last; from += SEED_BATCH) {
    const to = Math.min(last, from + SEED_BATCH - 1);
    await pool.query(
      `insert into group_members (group_id, tenant_id, member_user_id)
       select $1, $2, u.id
       from generate_series($3::int, $4::int) as i
       join users u on u.tenant_id = $2 and u.user_name_key = lower('User' || i || '@Bench.Example')`,
      [group.id, tenantId, from, to],
    );
  }
  return { id: group.id, seconds: (performance.now() - started) / 1000 };
}

/** The ids of seeded users first..last, in order. */
export async function seededUserIds(pool, tenantId, first, last) {
  const { rows } = await pool.query(
    `select u.id from generate_series($2::int, $3::int) with ordinality as s(i, n)
     join users u on u.tenant_id = $1 and u.user_name_key = lower('User' || s.i || '@Bench.Example')
     order by s.n`,
    [tenantId, first, last],
  );
  return rows.map((row) => row.id);
}

/** VACUUM ANALYZE the directory tables after bulk seeding, as autovacuum eventually would; seconds. */
export async function vacuumAnalyze(pool) {
  const started = performance.now();
  await pool.query('vacuum analyze users, user_emails, groups, group_members');
  return (performance.now() - started) / 1000;
}
