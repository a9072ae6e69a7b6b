import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// What the SAML service provider needs beside 202611230400's tables.

const statements = [
  // Where the metadata came from, so `roster idp update --metadata` can be told "again".
  `alter table saml_idps add column metadata_url text`,
  // SAML single logout names the session by NameID, its format and SessionIndex (SAML core §3.7.1).
  `alter table sessions add column name_id_format text`,
  // Where the browser goes after the login this request started (checked against the tenant's
  // allowed origins when it was asked for); RelayState is limited to 80 bytes (bindings §3.4.3).
  `alter table saml_request_ids add column return_to text`,
  // Pruning the caches by tenant stays an index scan.
  `create index saml_request_ids_tenant on saml_request_ids (tenant_id, idp_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`drop index if exists saml_request_ids_tenant`).execute(db);
  await sql.raw(`alter table saml_request_ids drop column if exists return_to`).execute(db);
  await sql.raw(`alter table sessions drop column if exists name_id_format`).execute(db);
  await sql.raw(`alter table saml_idps drop column if exists metadata_url`).execute(db);
}
