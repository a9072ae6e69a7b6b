// One node-saml instance per request, every security option written out (ADR 7):
// node-saml's own defaults are permissive (no InResponseTo check, SHA-1, an in-memory cache).
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import {
  requestAnswerRequirement,
  samlConnection,
  type SamlIdp,
  type ServiceProviderUrls,
} from '@roster/core';
import type { SsoSettings } from './settings.js';

export function createSamlClient(
  idp: SamlIdp,
  sp: ServiceProviderUrls,
  settings: SsoSettings,
  cacheProvider: CacheProvider,
): SAML {
  const keys = settings.spKeyPair;
  return new SAML({
    entryPoint: idp.ssoUrl,
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    audience: sp.entityId,
    // Only the configured certificates (an array: rotation); KeyInfo in messages is ignored.
    idpCert: [...idp.signingCertificates],
    // node-saml checks it on logout messages only; the ACS checks the assertion's Issuer itself.
    idpIssuer: idp.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: idp.wantResponseSigned,
    acceptedClockSkewMs: settings.clockSkewMs,
    maxAssertionAgeMs: settings.maxAssertionAgeMs,
    // IdP-initiated responses carry no InResponseTo: core says where they are admitted.
    validateInResponseTo:
      ValidateInResponseTo[requestAnswerRequirement(samlConnection(idp).policy)],
    requestIdExpirationPeriodMs: settings.requestTtlMs,
    cacheProvider,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    // No NameIDPolicy Format: the IdP sends its configured one (avoids InvalidNameIDPolicy).
    identifierFormat: null,
    // Entra answers AADSTS75011 to a RequestedAuthnContext its users' MFA does not match.
    disableRequestedAuthnContext: true,
    ...(idp.sloUrl ? { logoutUrl: idp.sloUrl } : {}),
    logoutCallbackUrl: sp.sloUrl,
    ...(keys
      ? {
          decryptionPvk: keys.privateKey,
          privateKey: keys.privateKey,
          publicCert: keys.certificate,
        }
      : {}),
  });
}
