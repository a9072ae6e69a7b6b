import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// A SCIM client (oidc_apps.kind 'scim') gets access tokens by the client credentials grant
// (RFC 6749 §4.4) that live this many minutes; an app (kind 'app') has none.

const statements = [
  `alter table oidc_apps add column token_lifetime_minutes integer`,
  `alter table oidc_apps add constraint oidc_apps_scim_token_lifetime check (
    (kind = 'scim') = (token_lifetime_minutes is not null)
    and (token_lifetime_minutes is null or token_lifetime_minutes between 60 and 360)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`alter table oidc_apps drop constraint if exists oidc_apps_scim_token_lifetime`)
    .execute(db);
  await sql.raw(`alter table oidc_apps drop column if exists token_lifetime_minutes`).execute(db);
}
