// What the ACS makes of a posted SAMLResponse before core is asked: the envelope read strictly,
// node-saml's validation (signatures, conditions, audience, InResponseTo presence), and the checks
// node-saml leaves to us. Every refusal is a SignInRefused; the request the response claims to
// answer is reported either way, for core to consume.
import type { Profile, SAML } from '@node-saml/node-saml';
import type { SamlIdp, ServiceProviderUrls } from '@roster/core';
import { classifyValidationError, SignInRefused } from './refusals.js';
import { AnsweredRequestRecorder } from './request-id.cache.js';
import {
  checkAssertion,
  readResponseEnvelope,
  refuseSha1,
  type CheckedAssertion,
  type ResponseEnvelope,
} from './response-checks.js';
import { createSamlClient } from './saml-client.factory.js';
import type { SsoSettings } from './settings.js';

export type AcsValidation =
  | {
      readonly ok: true;
      readonly profile: Profile;
      readonly checked: CheckedAssertion;
      /** The request this response answers (node-saml asked about it); absent: unsolicited. */
      readonly requestId: string | undefined;
    }
  | {
      readonly ok: false;
      readonly refusal: SignInRefused;
      /** The request the response claims to answer, when validation got that far. */
      readonly requestId: string | undefined;
      /** The first Assertion's ID, NOT verified: only to tell a replay apart. */
      readonly unverifiedAssertionId: string | undefined;
    };

/** Validates a posted SAMLResponse for this IdP and SP; refusals are values, other errors throw. */
export async function validateAcsResponse(
  samlResponse: unknown,
  idp: SamlIdp,
  sp: ServiceProviderUrls,
  settings: SsoSettings,
  now: Date,
): Promise<AcsValidation> {
  const recorder = new AnsweredRequestRecorder();
  let envelope: ResponseEnvelope | undefined;
  try {
    envelope = readResponseEnvelope(samlResponse);
    if (envelope.encrypted && !settings.spKeyPair) {
      throw new SignInRefused(
        'encrypted_assertion_without_key',
        'EncryptedAssertion received, no SSO_SP_PRIVATE_KEY_FILE configured',
      );
    }
    const saml = createSamlClient(idp, sp, settings, recorder);
    const profile = await validateSignedProfile(saml, String(samlResponse));
    // The signature inside an encrypted assertion was invisible before decryption.
    if (envelope.encrypted) refuseSha1(profile.getAssertionXml?.() ?? '');
    const checked = checkAssertion(profile, envelope, {
      entityId: idp.entityId,
      acsUrl: sp.acsUrl,
      now,
      clockSkewMs: settings.clockSkewMs,
      maxAgeMs: settings.maxAssertionAgeMs,
    });
    return { ok: true, profile, checked, requestId: recorder.requestId };
  } catch (error) {
    if (!(error instanceof SignInRefused)) throw error;
    return {
      ok: false,
      refusal: error,
      requestId: recorder.requestId,
      unverifiedAssertionId: envelope?.assertionId,
    };
  }
}

/** node-saml's validation; its errors become refusals, and a response without assertion too. */
async function validateSignedProfile(saml: SAML, samlResponse: string): Promise<Profile> {
  let validated: Awaited<ReturnType<SAML['validatePostResponseAsync']>>;
  try {
    validated = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
  } catch (error) {
    throw classifyValidationError(error);
  }
  if (!validated.profile)
    throw new SignInRefused('no_assertion', validated.loggedOut ? 'a LogoutResponse' : 'NoPassive');
  return validated.profile;
}
