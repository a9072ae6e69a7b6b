// The SAML door (rules 2 and 3): one transaction finds, decides, links or creates,
// refreshes a JIT user, and opens the session; a refusal writes only its audit event.
import { createHash, randomBytes } from 'node:crypto';
import { recordAudit } from '../audit/audit.repository.js';
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { inTransaction, inTransactionRetryingRaces, type Db, type Tx } from '../db/transaction.js';
import { invalid, notFound } from '../errors.js';
import { isUuid } from '../ids.js';
import { assertIndexedText, assertStorableUser } from '../input-limits.js';
import { isTransientNameId } from '../reconciliation/identity-key.js';
import {
  decideSignIn,
  stateOnCreate,
  type IdentityProviderPolicy,
  type MatchKey,
  type RefusalReason,
  type SignInDecision,
} from '../reconciliation/reconcile.js';
import type { User, UserAttributes } from '../users/user.js';
import {
  insertUser,
  lockUserBySamlLink,
  lockUserByUserName,
  lockUsersByEmail,
  updateUser,
} from '../users/user.store.js';
import { syncJitGroups } from './sync-jit-groups.js';
import { recordUserChange } from './record-change.js';

/** What a validated assertion says, after the IdP's attribute mapping (the SSO adapter's job). */
export interface AssertedIdentity {
  readonly nameId: string;
  readonly nameIdFormat?: string | undefined;
  /** Mapped attributes; `userName` defaults to the NameID. */
  readonly attributes?: Partial<UserAttributes> | undefined;
  /**
   * Group names from the IdP's groups attribute, when the IdP maps one (absent: memberships are
   * left alone). A JIT user's JIT-group memberships are synchronised to exactly these.
   */
  readonly groups?: readonly string[] | undefined;
  /** The assertion's AuthnStatement@SessionIndex, kept on the session for single logout. */
  readonly sessionIndex?: string | undefined;
}

export interface SessionPolicy {
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleTimeoutMs: 8 * 3_600_000,
  absoluteTimeoutMs: 24 * 3_600_000,
};

export type SignInResult =
  | {
      readonly outcome: 'signed_in';
      readonly user: User;
      readonly created: boolean;
      readonly linked: boolean;
      readonly refreshed: boolean;
      readonly matchedBy: MatchKey | 'created';
      /** The session cookie's value: shown once, stored only as a hash. */
      readonly session: { readonly token: string; readonly expiresAt: Date };
    }
  | {
      readonly outcome: 'refused';
      readonly reason: RefusalReason;
      readonly detail: string;
      readonly userId?: string;
    };

interface IdpRow extends IdentityProviderPolicy {
  readonly id: string;
}

async function loadIdp(db: Db | Tx, tenantId: string, idpId: string): Promise<IdpRow> {
  const idp = isUuid(idpId)
    ? await db
        .selectFrom('saml_idps')
        .select(['id', 'jit_policy', 'match_by'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', idpId)
        .executeTakeFirst()
    : undefined;
  if (!idp) throw notFound(`identity provider ${idpId} does not exist in this tenant`);
  return { id: idp.id, jitPolicy: idp.jit_policy, matchBy: idp.match_by };
}

function assertedAttributes(identity: AssertedIdentity): UserAttributes {
  if (identity.nameId.trim() === '')
    throw invalid('the assertion has an empty NameID', { field: 'nameId' });
  assertIndexedText(identity.nameId, 'the NameID');
  identity.groups?.forEach((name) => assertIndexedText(name, 'a group name'));
  const attributes = identity.attributes ?? {};
  const asserted = { ...attributes, userName: attributes.userName?.trim() || identity.nameId };
  assertStorableUser(asserted);
  return asserted;
}

/** Finds and locks the candidates of a sign-in, and decides (shared by sign-in and explain). */
async function decide(
  tx: Tx,
  tenantId: string,
  idp: IdpRow,
  identity: AssertedIdentity,
  attributes: UserAttributes,
): Promise<SignInDecision> {
  const linked = await lockUserBySamlLink(tx, tenantId, idp.id, identity.nameId);
  if (linked) return decideSignIn({ linked }, idp, isTransientNameId(identity.nameIdFormat));
  const byUserName =
    idp.matchBy !== 'email'
      ? await lockUserByUserName(tx, tenantId, attributes.userName)
      : undefined;
  const emails = (attributes.emails ?? []).map((e) => e.value);
  const byEmail =
    idp.matchBy !== 'username'
      ? (await Promise.all(emails.map((email) => lockUsersByEmail(tx, tenantId, email)))).flat()
      : [];
  return decideSignIn({ byUserName, byEmail }, idp, isTransientNameId(identity.nameIdFormat));
}

/**
 * Signs a person in from a validated assertion of one of the tenant's IdPs.
 *
 * @example
 * const result = await signInWithSaml(db, tenant.id, idp.id, { nameId: 'ann@example.com' }, ctx, clock);
 * if (result.outcome === 'signed_in') setCookie(result.session.token);
 */
export async function signInWithSaml(
  db: Db,
  tenantId: string,
  idpId: string,
  identity: AssertedIdentity,
  context: ChangeContext,
  clock: Clock,
  sessionPolicy: SessionPolicy = DEFAULT_SESSION_POLICY,
): Promise<SignInResult> {
  const attributes = assertedAttributes(identity);
  const idp = await loadIdp(db, tenantId, idpId);
  const result = await inTransactionRetryingRaces(db, async (tx): Promise<SignInResult> => {
    const now = clock.now();
    const decision = await decide(tx, tenantId, idp, identity, attributes);
    if (decision.kind === 'refuse') {
      return {
        outcome: 'refused',
        reason: decision.reason,
        detail: decision.detail,
        ...(decision.user ? { userId: decision.user.id } : {}),
      };
    }
    let user: User;
    let action: string;
    if (decision.kind === 'create') {
      user = await insertUser(tx, tenantId, attributes, {
        source: 'jit',
        state: stateOnCreate(true, 'jit'),
        now,
        lastSignInAt: now,
      });
      action = 'user.created';
    } else {
      // JIT synchronisation for JIT users; SCIM-managed users keep SCIM's attributes (rule 2).
      const refresh = decision.refresh ? { attributes } : {};
      user = await updateUser(tx, decision.user, { ...refresh, lastSignInAt: now }, now);
      action = decision.refresh ? 'user.refreshed_by_sign_in' : 'user.signed_in';
    }
    if (decision.link) {
      // A concurrent sign-in may have linked this NameID a moment ago: the unique key refuses
      // the second link and the retry finds the user by link.
      await tx
        .insertInto('saml_links')
        .values({
          idp_id: idp.id,
          name_id: identity.nameId,
          tenant_id: tenantId,
          name_id_format: identity.nameIdFormat ?? null,
          user_id: user.id,
          created_at: now,
          last_used_at: now,
        })
        .execute();
    } else {
      await tx
        .updateTable('saml_links')
        .set({ last_used_at: now })
        .where('idp_id', '=', idp.id)
        .where('name_id', '=', identity.nameId)
        .execute();
    }
    const jitSync = decision.kind === 'create' || decision.refresh;
    const groups =
      jitSync && identity.groups
        ? await syncJitGroups(tx, tenantId, user.id, identity.groups, now)
        : undefined;
    const session = await openSession(tx, user, idp.id, identity, now, sessionPolicy);
    const before = decision.kind === 'create' ? undefined : decision.user;
    await recordUserChange(tx, context, action, before, user, {
      idpId: idp.id,
      matchedBy: decision.kind === 'create' ? 'created' : decision.matchedBy,
      linked: decision.link,
      ...(groups ? { groups } : {}),
    });
    return {
      outcome: 'signed_in',
      user,
      created: decision.kind === 'create',
      linked: decision.link,
      refreshed: decision.kind === 'sign_in' && decision.refresh,
      matchedBy: decision.kind === 'create' ? 'created' : decision.matchedBy,
      session,
    };
  });
  if (result.outcome === 'refused') {
    // Rule 3: a refusal writes nothing to the directory, only its audit event.
    await inTransaction(db, (tx) =>
      recordAudit(tx, tenantId, context, {
        action: 'sign_in.refused',
        target: { type: 'user', id: result.userId ?? identity.nameId },
        changes: { reason: result.reason, idpId: idp.id, nameId: identity.nameId },
      }),
    );
  }
  return result;
}

async function openSession(
  tx: Tx,
  user: User,
  idpId: string,
  identity: AssertedIdentity,
  now: Date,
  policy: SessionPolicy,
) {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + policy.absoluteTimeoutMs);
  await tx
    .insertInto('sessions')
    .values({
      id_hash: sessionIdHash(token),
      tenant_id: user.tenantId,
      user_id: user.id,
      idp_id: idpId,
      name_id: identity.nameId,
      name_id_format: identity.nameIdFormat ?? null,
      session_index: identity.sessionIndex ?? null,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: new Date(now.getTime() + policy.idleTimeoutMs),
      absolute_expires_at: expiresAt,
    })
    .execute();
  return { token, expiresAt };
}

/** Sessions are stored under the SHA-256 of their cookie value. */
export const sessionIdHash = (token: string): Buffer =>
  createHash('sha256').update(token, 'utf8').digest();

/** Dry run of a sign-in through the same rules (`roster explain`): nothing is written. */
export async function explainSignIn(
  db: Db,
  tenantId: string,
  idpId: string,
  identity: AssertedIdentity,
) {
  const attributes = assertedAttributes(identity);
  const idp = await loadIdp(db, tenantId, idpId);
  const decision = await db
    .transaction()
    .execute((tx) => decide(tx, tenantId, idp, identity, attributes));
  return {
    idp,
    userName: attributes.userName,
    transientNameId: isTransientNameId(identity.nameIdFormat),
    decision,
  };
}
