import { sql, type Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit after it shipped.
// Written as plain PostgreSQL that both PostgreSQL 15 and PGlite (PostgreSQL 17) accept.
//
// Identity keys (users.user_name_key, user_emails.value_key) no longer keep white space around
// the value: " ann@x " and "ann@x" are one person. Rows whose key starts or ends with white
// space get the new key. When that key is already another user's in the same tenant (two users
// that are now one identity), the unique index (tenant_id, user_name_key) cannot hold both: the
// user that had the key first keeps it (the row without white space, else the oldest), and the
// other keeps its old key, so this migration never fails and never merges or deletes anyone.
// Such a user is still read and deleted by id; a write to it answers 409 until the operator
// removes one of the two (README "Identity keys").

/** JavaScript's String.prototype.trim() set (WhiteSpace and LineTerminator), as a regex class. */
const WHITE_SPACE = String.raw`[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]`;
const AT_EITHER_END = `^${WHITE_SPACE}|${WHITE_SPACE}$`;

/** The identity key as of this migration: NFC, trimmed, lower case. */
const keyOf = (value: string): string => value.normalize('NFC').trim().toLowerCase();
/** The key before it: NFC, lower case (for `down`). */
const previousKeyOf = (value: string): string => value.normalize('NFC').toLowerCase();

interface UserRow {
  id: string;
  tenant_id: string;
  user_name: string;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const users = await sql<UserRow>`
    select id, tenant_id, user_name from users
    where user_name_key ~ ${AT_EITHER_END}
    order by tenant_id, created_at, id`.execute(db);
  for (const user of users.rows) {
    const key = keyOf(user.user_name);
    // Taken already (by a row without white space, or an older one moved just before): keep.
    await sql`
      update users set user_name_key = ${key}
      where id = ${user.id}
        and not exists (
          select 1 from users other
          where other.tenant_id = ${user.tenant_id} and other.user_name_key = ${key})`.execute(db);
  }
  const emails = await sql<{ user_id: string; position: number; value: string }>`
    select user_id, position, value from user_emails where value_key ~ ${AT_EITHER_END}`.execute(
    db,
  );
  for (const email of emails.rows) {
    await sql`
      update user_emails set value_key = ${keyOf(email.value)}
      where user_id = ${email.user_id} and position = ${email.position}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const users = await sql<UserRow>`
    select id, tenant_id, user_name from users where user_name ~ ${AT_EITHER_END}`.execute(db);
  for (const user of users.rows) {
    await sql`update users set user_name_key = ${previousKeyOf(user.user_name)}
      where id = ${user.id}`.execute(db);
  }
  const emails = await sql<{ user_id: string; position: number; value: string }>`
    select user_id, position, value from user_emails where value ~ ${AT_EITHER_END}`.execute(db);
  for (const email of emails.rows) {
    await sql`
      update user_emails set value_key = ${previousKeyOf(email.value)}
      where user_id = ${email.user_id} and position = ${email.position}`.execute(db);
  }
}
