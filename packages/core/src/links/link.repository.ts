// The links from a connection's subject to a user (table saml_links: (IdP, NameID) -> user), the
// first key a sign-in looks up (rule 2) and what a SCIM create adopts by (rule 1). Tenant-scoped
// like every query.
import { sql } from 'kysely';
import type { Tx } from '../db/transaction.js';
import { identityKey } from '../reconciliation/identity-key.js';
import type { User } from '../users/user.js';
import { lockUsersSelectedBy } from '../users/user.store.js';

/** A link key: who a connection of the tenant says this person is. */
export interface LinkKey {
  readonly connectionId: string;
  /** The SAML NameID (an OIDC `sub` later). */
  readonly subject: string;
  readonly subjectFormat?: string | undefined;
}

/** The user a link points at, locked FOR UPDATE until the transaction ends. */
export async function lockUserByLink(
  tx: Tx,
  tenantId: string,
  key: LinkKey,
): Promise<User | undefined> {
  const linked = tx
    .selectFrom('saml_links')
    .select('user_id')
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', key.connectionId)
    .where('name_id', '=', key.subject);
  return (await lockUsersSelectedBy(tx, tenantId, linked))[0];
}

/**
 * Links a subject to a user. A concurrent sign-in may have linked it a moment ago: the unique key
 * refuses the second link, and the caller's retry finds the user by the link.
 */
export async function insertLink(
  tx: Tx,
  tenantId: string,
  key: LinkKey,
  userId: string,
  now: Date,
) {
  await tx
    .insertInto('saml_links')
    .values({
      idp_id: key.connectionId,
      name_id: key.subject,
      tenant_id: tenantId,
      name_id_format: key.subjectFormat ?? null,
      user_id: userId,
      created_at: now,
      last_used_at: now,
    })
    .execute();
}

/** Records that a link was used to sign in now. */
export async function touchLink(tx: Tx, tenantId: string, key: LinkKey, now: Date) {
  await tx
    .updateTable('saml_links')
    .set({ last_used_at: now })
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', key.connectionId)
    .where('name_id', '=', key.subject)
    .execute();
}

/** Users a link points at whose subject is one of `subjects` (compared as identity keys), locked. */
export async function lockUsersByLinkedSubject(
  tx: Tx,
  tenantId: string,
  subjects: readonly string[],
): Promise<User[]> {
  const keys = [...new Set(subjects.map(identityKey))];
  if (keys.length === 0) return [];
  const linked = tx
    .selectFrom('saml_links')
    .select('user_id')
    .where('tenant_id', '=', tenantId)
    .where(sql<string>`lower(name_id)`, 'in', keys);
  return lockUsersSelectedBy(tx, tenantId, linked);
}

/** Removes every link of a connection (the connection is being removed); returns how many. */
export async function removeLinksOfConnection(
  tx: Tx,
  tenantId: string,
  connectionId: string,
): Promise<number> {
  const result = await tx
    .deleteFrom('saml_links')
    .where('tenant_id', '=', tenantId)
    .where('idp_id', '=', connectionId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
