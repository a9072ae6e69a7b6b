// Which of a tenant's connections a sign-in should go to when an app gives a hint (OpenID Connect
// Core §3.1.2.1 `login_hint`), so a person of a tenant with several IdPs skips the chooser.
import type { Db } from '../db/transaction.js';
import { identityKey } from '../reconciliation/identity-key.js';

/** Longest hint looked at (an email address is at most 320 characters, RFC 5321 §4.5.3.1). */
export const MAX_LOGIN_HINT_LENGTH = 320;

/**
 * The connection a hint points at, or undefined when it points at none or at several:
 * - a person Roster knows (by userName or email): the connection they last signed in through;
 * - else an email domain: the one connection through which people of that domain sign in.
 */
export async function connectionForLoginHint(
  db: Db,
  tenantId: string,
  hint: string | undefined,
): Promise<string | undefined> {
  if (!hint || hint.length > MAX_LOGIN_HINT_LENGTH) return undefined;
  const key = identityKey(hint);
  if (key === '') return undefined;
  const known = await db
    .selectFrom('saml_links as l')
    .innerJoin('users as u', (join) =>
      join.onRef('u.tenant_id', '=', 'l.tenant_id').onRef('u.id', '=', 'l.user_id'),
    )
    .select('l.idp_id')
    .where('l.tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb('u.user_name_key', '=', key),
        eb.exists(
          eb
            .selectFrom('user_emails as e')
            .select('e.user_id')
            .where('e.tenant_id', '=', tenantId)
            .whereRef('e.user_id', '=', 'u.id')
            .where('e.value_key', '=', key),
        ),
      ]),
    )
    .orderBy('l.last_used_at', (ob) => ob.desc().nullsLast())
    .limit(1)
    .executeTakeFirst();
  if (known) return known.idp_id;
  const at = key.lastIndexOf('@');
  const domain = at >= 0 ? key.slice(at + 1) : '';
  if (domain === '' || /[%_\\]/.test(domain)) return undefined;
  const byDomain = await db
    .selectFrom('saml_links as l')
    .innerJoin('users as u', (join) =>
      join.onRef('u.tenant_id', '=', 'l.tenant_id').onRef('u.id', '=', 'l.user_id'),
    )
    .select('l.idp_id')
    .distinct()
    .where('l.tenant_id', '=', tenantId)
    .where('u.user_name_key', 'like', `%@${domain}`)
    .limit(2)
    .execute();
  const [only, another] = byDomain;
  return only && !another ? only.idp_id : undefined;
}
