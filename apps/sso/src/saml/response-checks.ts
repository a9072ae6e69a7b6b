/// <reference lib="dom" />
// The DOM types of the documents parseXmlStrictly returns (xmldom implements them).
// The checks node-saml 5.1.0 leaves to the service provider (ADR 7): SHA-1, Issuer,
// Destination, bearer SubjectConfirmation with Recipient and InResponseTo, replay's expiry.
// Everything after validation reads only the signed assertion (profile.getAssertion()).
import { parseXmlStrictly } from '@roster/core';
import type { Profile } from '@node-saml/node-saml';
import { SignInRefused } from './refusals.js';

/** Largest SAMLResponse accepted, base64 included (Entra's with 150 groups is about 30 kB). */
export const MAX_SAML_RESPONSE_BYTES = 256 * 1024;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const SHA1_SIGNATURE_METHODS = new Set([
  `${XMLDSIG_NS}rsa-sha1`,
  `${XMLDSIG_NS}dsa-sha1`,
  `${XMLDSIG_NS}hmac-sha1`,
]);
const SHA1_DIGEST = `${XMLDSIG_NS}sha1`;

/**
 * Refuses SHA-1 signatures and SHA-1 Reference digests anywhere in a parsed document (a walk of
 * the DOM: linear, unlike a regular expression over attacker XML). A SHA-1 DigestMethod inside
 * an xmlenc EncryptionMethod (RSA-OAEP's mask digest) is not a signature and is left alone.
 */
function refuseSha1In(document: Document): void {
  for (const method of Array.from(document.getElementsByTagNameNS(XMLDSIG_NS, 'SignatureMethod'))) {
    if (SHA1_SIGNATURE_METHODS.has(method.getAttribute('Algorithm') ?? ''))
      throw new SignInRefused('weak_algorithm', 'signed with a SHA-1 SignatureMethod');
  }
  for (const digest of Array.from(document.getElementsByTagNameNS(XMLDSIG_NS, 'DigestMethod'))) {
    const parent = digest.parentNode as Element | null;
    if (parent?.localName === 'Reference' && digest.getAttribute('Algorithm') === SHA1_DIGEST)
      throw new SignInRefused('weak_algorithm', 'a Reference digest uses sha1');
  }
}

function parseXml(xml: string): { document: Document; root: Element } {
  const parsed = parseXmlStrictly(xml);
  if ('problem' in parsed)
    throw new SignInRefused('malformed_response', `not XML: ${parsed.problem.slice(0, 200)}`);
  return parsed;
}

/** Refuses SHA-1 in this XML (a decrypted assertion, whose signature was hidden before). */
export function refuseSha1(xml: string): void {
  refuseSha1In(parseXml(xml).document);
}

export interface ResponseEnvelope {
  readonly xml: string;
  /** Response@Destination, if any. */
  readonly destination: string | undefined;
  /** Response/Issuer, if any. */
  readonly issuer: string | undefined;
  readonly encrypted: boolean;
  /** The first Assertion's ID, NOT verified: only to tell a replay apart in a refusal's reason. */
  readonly assertionId: string | undefined;
}

/** Decodes the posted SAMLResponse and reads the Response element's own attributes. */
export function readResponseEnvelope(samlResponse: unknown): ResponseEnvelope {
  if (typeof samlResponse !== 'string' || samlResponse.length === 0)
    throw new SignInRefused('malformed_response', 'no SAMLResponse field in the POST body');
  if (samlResponse.length > MAX_SAML_RESPONSE_BYTES)
    throw new SignInRefused('malformed_response', 'SAMLResponse larger than the limit');
  const compact = samlResponse.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
    throw new SignInRefused('malformed_response', 'SAMLResponse is not base64');
  const xml = Buffer.from(compact, 'base64').toString('utf8');
  // No DTDs: a SAML message never has one, and entity tricks are a classic XML attack.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new SignInRefused('malformed_response', 'the message has a DOCTYPE');
  const { document, root } = parseXml(xml);
  refuseSha1In(document);
  if (root.localName !== 'Response' || root.namespaceURI !== SAMLP_NS)
    throw new SignInRefused(
      'malformed_response',
      `the root element is <${root.nodeName}>, not a samlp:Response`,
    );
  let issuer: string | undefined;
  let encrypted = false;
  let assertionId: string | undefined;
  for (let node = root.firstChild; node; node = node.nextSibling) {
    const element = node as Element;
    if (node.nodeType !== 1 || element.namespaceURI !== SAML_NS) continue;
    if (element.localName === 'Issuer') issuer = (element.textContent ?? '').trim();
    if (element.localName === 'EncryptedAssertion') encrypted = true;
    if (element.localName === 'Assertion') assertionId ??= element.getAttribute('ID') ?? undefined;
  }
  return {
    xml,
    destination: root.getAttribute('Destination') ?? undefined,
    issuer,
    encrypted,
    assertionId,
  };
}

type XmlNode = { $?: Record<string, string | undefined>; _?: string } & Record<string, unknown>;
const children = (node: unknown, name: string): XmlNode[] => {
  const value = (node as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
};
const attribute = (node: XmlNode | undefined, name: string): string | undefined => node?.$?.[name];
const time = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

export interface CheckedAssertion {
  readonly assertionId: string;
  /** Until when the assertion id must be remembered (its latest validity, plus the skew). */
  readonly rememberUntil: Date;
}

/**
 * The checks node-saml does not make, on the signed assertion (SAML profiles §4.1.4.2-3):
 * Issuer is the IdP's entityID; Destination (if present) is our ACS; some bearer
 * SubjectConfirmation has Recipient = ACS, a live NotOnOrAfter, no NotBefore, and the same
 * InResponseTo as the Response (none when unsolicited).
 */
export function checkAssertion(
  profile: Profile,
  envelope: ResponseEnvelope,
  expected: { entityId: string; acsUrl: string; now: Date; clockSkewMs: number; maxAgeMs: number },
): CheckedAssertion {
  const { entityId, acsUrl, clockSkewMs } = expected;
  const now = expected.now.getTime();
  if (envelope.destination !== undefined && envelope.destination !== acsUrl)
    throw new SignInRefused(
      'destination_mismatch',
      `Destination "${envelope.destination.slice(0, 200)}" is not ${acsUrl}`,
    );
  if (envelope.issuer !== undefined && envelope.issuer !== entityId)
    throw new SignInRefused(
      'issuer_mismatch',
      `Response Issuer "${envelope.issuer.slice(0, 200)}" is not ${entityId}`,
    );
  if (profile.issuer !== entityId)
    throw new SignInRefused(
      'issuer_mismatch',
      `Assertion Issuer "${String(profile.issuer).slice(0, 200)}" is not ${entityId}`,
    );
  if (typeof profile.nameID !== 'string' || profile.nameID.trim() === '')
    throw new SignInRefused('missing_name_id', 'the assertion has no NameID');

  const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
  const assertionId = attribute(assertion, 'ID');
  if (!assertion || !assertionId)
    throw new SignInRefused('invalid_response', 'the assertion has no ID');
  const inResponseTo = typeof profile.inResponseTo === 'string' ? profile.inResponseTo : undefined;

  const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation');
  const bearer = confirmations.filter((c) => attribute(c, 'Method') === BEARER);
  if (bearer.length === 0)
    throw new SignInRefused('no_bearer_confirmation', 'no bearer SubjectConfirmation');
  let refusal: SignInRefused | undefined;
  let confirmedUntil: number | undefined;
  for (const confirmation of bearer) {
    const data = children(confirmation, 'SubjectConfirmationData')[0];
    const recipient = attribute(data, 'Recipient');
    const notOnOrAfter = time(attribute(data, 'NotOnOrAfter'));
    const dataInResponseTo = attribute(data, 'InResponseTo');
    if (recipient !== acsUrl) {
      refusal ??= new SignInRefused(
        'recipient_mismatch',
        `Recipient "${String(recipient).slice(0, 200)}" is not ${acsUrl}`,
      );
    } else if (notOnOrAfter === undefined || attribute(data, 'NotBefore') !== undefined) {
      refusal ??= new SignInRefused(
        'no_bearer_confirmation',
        'bearer confirmation without NotOnOrAfter, or with NotBefore',
      );
    } else if (now - clockSkewMs >= notOnOrAfter) {
      refusal ??= new SignInRefused('expired', 'SubjectConfirmationData NotOnOrAfter has passed');
    } else if (dataInResponseTo !== inResponseTo) {
      refusal ??= new SignInRefused(
        inResponseTo ? 'in_response_to_mismatch' : 'unsolicited',
        'SubjectConfirmationData InResponseTo differs from the Response’s',
      );
    } else {
      confirmedUntil = notOnOrAfter;
      break;
    }
  }
  if (confirmedUntil === undefined)
    throw refusal ?? new SignInRefused('no_bearer_confirmation', 'no usable bearer confirmation');

  const conditionsEnd = time(attribute(children(assertion, 'Conditions')[0], 'NotOnOrAfter'));
  const issued = time(attribute(assertion, 'IssueInstant')) ?? now;
  const latest = Math.max(confirmedUntil, conditionsEnd ?? 0, issued + expected.maxAgeMs);
  return {
    assertionId,
    rememberUntil: new Date(latest + clockSkewMs),
  };
}
