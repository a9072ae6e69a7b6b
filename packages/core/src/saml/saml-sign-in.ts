// SAML's view of the one sign-in: an IdP of the tenant is a connection, a NameID is the subject.
// The ACS has its IdP loaded: it passes samlConnection(idp) to signIn itself. signInWithSaml and
// explainSignIn take an IdP id, for tests and the operator's dry run.
import type { Clock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import {
  explainSignInAttempt,
  signIn,
  type Assertion,
  type SignInConnection,
  type SignInResult,
} from '../sign-in/sign-in.js';
import { DEFAULT_SESSION_POLICY, type SessionPolicy } from '../sessions/session.js';
import type { SamlIdp } from './saml-idp.js';
import { getSamlIdp } from './saml-idp.repository.js';

/** What a validated assertion says, after the IdP's attribute mapping: an Assertion by NameID. */
export interface AssertedIdentity extends Omit<Assertion, 'subject' | 'subjectFormat'> {
  readonly nameId: string;
  readonly nameIdFormat?: string | undefined;
}

/** An IdP as the connection a person signs in through. */
export function samlConnection(
  idp: Pick<SamlIdp, 'id' | 'jitPolicy' | 'matchBy' | 'allowIdpInitiated'>,
): SignInConnection {
  return {
    id: idp.id,
    kind: 'saml',
    policy: {
      jitPolicy: idp.jitPolicy,
      matchBy: idp.matchBy,
      allowUnsolicited: idp.allowIdpInitiated,
    },
  };
}

/** An asserted identity in the connection's terms. */
function samlAssertion(identity: AssertedIdentity): Assertion {
  return {
    subject: identity.nameId,
    subjectFormat: identity.nameIdFormat,
    attributes: identity.attributes,
    groups: identity.groups,
    sessionIndex: identity.sessionIndex,
  };
}

/**
 * Signs a person in as one of the tenant's IdPs asserts, with no SAML message to check (the
 * protocol's checks belong to the ACS): for tests and tools.
 *
 * @example
 * const result = await signInWithSaml(db, tenant.id, idp.id, { nameId: 'ann@example.com' }, ctx, clock);
 */
export async function signInWithSaml(
  db: Db,
  tenantId: string,
  idpRef: string,
  identity: AssertedIdentity,
  context: ChangeContext,
  clock: Clock,
  sessionPolicy: SessionPolicy = DEFAULT_SESSION_POLICY,
): Promise<SignInResult> {
  const idp = await getSamlIdp(db, tenantId, idpRef);
  return signIn(
    db,
    { tenantId, connection: samlConnection(idp), asserted: samlAssertion(identity), sessionPolicy },
    context,
    clock,
  );
}

/**
 * Dry run of a sign-in through the same rules (`roster explain`): nothing is written. The IdP is
 * its id or name, or the IdP the caller already loaded.
 */
export async function explainSignIn(
  db: Db,
  tenantId: string,
  idpOrRef: string | SamlIdp,
  identity: AssertedIdentity,
) {
  const idp = typeof idpOrRef === 'string' ? await getSamlIdp(db, tenantId, idpOrRef) : idpOrRef;
  const explained = await explainSignInAttempt(db, {
    tenantId,
    connection: samlConnection(idp),
    asserted: samlAssertion(identity),
  });
  return { idp: { id: idp.id, jitPolicy: idp.jitPolicy, matchBy: idp.matchBy }, ...explained };
}
