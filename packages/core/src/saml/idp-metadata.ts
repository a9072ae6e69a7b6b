// IdP metadata (SAML 2.0 metadata, saml-metadata-2.0-os) read into what Roster stores for an IdP.
// Untrusted input: size-capped, no DTDs, every problem named in the error.
import { X509Certificate } from 'node:crypto';
import xpath from 'xpath';
import { invalid } from '../errors.js';
import {
  OutboundError,
  sendOutbound,
  type OutboundPolicy,
  type OutboundResponse,
} from '../outbound/outbound-policy.js';
import { parseXmlStrictly } from './xml.js';

/** Largest IdP metadata document accepted, from a file or a URL (Entra's is about 10 kB). */
export const MAX_IDP_METADATA_BYTES = 512 * 1024;
/** How long a metadata URL may take to answer completely. */
export const IDP_METADATA_FETCH_TIMEOUT_MS = 10_000;
/** Most signing certificates kept for one IdP (rotation needs two or three). */
export const MAX_IDP_SIGNING_CERTIFICATES = 10;
/** Longest entityID in UTF-8 bytes (and at most 1024 characters). */
export const MAX_ENTITY_ID_BYTES = 2048;

const NS = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
};
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;
const select = xpath.useNamespaces(NS);

/** What an IdP's metadata tells Roster. */
export interface IdpMetadata {
  readonly entityId: string;
  /** SingleSignOnService for HTTP-Redirect (Roster sends AuthnRequests that way). */
  readonly ssoUrl: string;
  /** SingleLogoutService for HTTP-Redirect, when the IdP offers single logout. */
  readonly sloUrl: string | null;
  /** PEM certificates the IdP signs with (several during a rotation). */
  readonly signingCertificates: readonly string[];
}

const metadataError = (problem: string) =>
  invalid(`IdP metadata: ${problem}`, { field: 'metadata' });

/**
 * Reads IdP metadata XML. Throws an `Invalid` CoreError naming what is wrong (not XML, no
 * IDPSSODescriptor, no HTTP-Redirect sign-on URL, no signing certificate, expired, ...).
 *
 * @example
 * const { entityId, ssoUrl, signingCertificates } = parseIdpMetadata(xml);
 */
export function parseIdpMetadata(xml: string, now: Date = new Date()): IdpMetadata {
  if (Buffer.byteLength(xml, 'utf8') > MAX_IDP_METADATA_BYTES)
    throw metadataError(`larger than ${MAX_IDP_METADATA_BYTES} bytes`);
  if (xml.trim() === '') throw metadataError('the document is empty');
  // No DTDs at all: metadata never needs one, and entity expansion is a denial-of-service vector.
  if (/<!DOCTYPE/i.test(xml)) throw metadataError('a DOCTYPE is not allowed');
  const parsed = parseXmlStrictly(xml);
  if ('problem' in parsed)
    throw metadataError(`not well-formed XML (${firstLine(parsed.problem)})`);
  const { document, root } = parsed;
  if (
    root.namespaceURI !== NS.md ||
    !['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName)
  )
    throw metadataError(
      `the root element is <${root.nodeName}>, not a SAML 2.0 metadata EntityDescriptor`,
    );

  const idps = (select('//md:EntityDescriptor[md:IDPSSODescriptor]', document) as Element[]).filter(
    Boolean,
  );
  if (idps.length === 0)
    throw metadataError(
      'no IDPSSODescriptor: this is not an identity provider’s metadata (is it the service provider’s?)',
    );
  if (idps.length > 1)
    throw metadataError(
      `it describes ${idps.length} identity providers; give the metadata of one IdP`,
    );
  const entity = idps[0] as Element;
  const entityId = (entity.getAttribute('entityID') ?? '').trim();
  if (!entityId) throw metadataError('the EntityDescriptor has no entityID');
  if (entityId.length > 1024) throw metadataError('the entityID is longer than 1024 characters');
  // It is indexed (one IdP per entityID and tenant): a btree entry holds about 2.7 KB.
  if (Buffer.byteLength(entityId, 'utf8') > MAX_ENTITY_ID_BYTES)
    throw metadataError(`the entityID is longer than ${MAX_ENTITY_ID_BYTES} bytes of UTF-8`);
  checkValidUntil(entity, now);
  const descriptor = select('md:IDPSSODescriptor', entity, true) as Element;
  checkValidUntil(descriptor, now);
  const protocols = (descriptor.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/);
  if (!protocols.includes(SAML2_PROTOCOL))
    throw metadataError('the IDPSSODescriptor does not support the SAML 2.0 protocol');

  const ssoUrl = serviceUrl(descriptor, 'SingleSignOnService', SAML_BINDING.redirect);
  if (!ssoUrl) {
    throw metadataError(
      'no SingleSignOnService with the HTTP-Redirect binding (Roster sends AuthnRequests by redirect)',
    );
  }
  const sloUrl = serviceUrl(descriptor, 'SingleLogoutService', SAML_BINDING.redirect);
  const signingCertificates = signingCertificatesOf(descriptor, now);
  return { entityId, ssoUrl, sloUrl: sloUrl ?? null, signingCertificates };
}

function firstLine(message: string): string {
  return (
    message
      .split('\n')[0]
      ?.replace(/^\[xmldom [^\]]*\]\s*/, '')
      .slice(0, 200) ?? ''
  );
}

function checkValidUntil(element: Element, now: Date): void {
  const validUntil = element.getAttribute('validUntil');
  if (!validUntil) return;
  const at = new Date(validUntil);
  if (Number.isNaN(at.getTime())) throw metadataError(`validUntil "${validUntil}" is not a date`);
  if (at <= now) throw metadataError(`it expired at ${at.toISOString()} (validUntil)`);
}

function serviceUrl(descriptor: Element, service: string, binding: string): string | undefined {
  const services = select(`md:${service}[@Binding='${binding}']`, descriptor) as Element[];
  const location = services[0]?.getAttribute('Location')?.trim();
  if (location === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw metadataError(`the ${service} Location "${location.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw metadataError(`the ${service} Location must be an http(s) URL`);
  return url.toString();
}

function signingCertificatesOf(descriptor: Element, now: Date): string[] {
  // KeyDescriptor without `use` serves both signing and encryption (metadata §2.4.1.1).
  const values = select(
    "md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
    descriptor,
  ) as Element[];
  if (values.length === 0)
    throw metadataError(
      'no signing certificate (KeyDescriptor use="signing" with an X509Certificate)',
    );
  const pems = [...new Set(values.map((value) => toPem(value.textContent ?? '')))];
  const usable = pems.filter((pem) => certificateUsable(pem, now));
  if (usable.length === 0)
    throw metadataError(
      'every signing certificate has expired; download fresh metadata from the IdP',
    );
  if (usable.length > MAX_IDP_SIGNING_CERTIFICATES)
    throw metadataError(`more than ${MAX_IDP_SIGNING_CERTIFICATES} signing certificates`);
  return usable;
}

function certificateUsable(pem: string, now: Date): boolean {
  return new Date(new X509Certificate(pem).validTo) > now;
}

/**
 * A certificate as PEM, from PEM or bare base64 DER (as metadata carries it). Throws `Invalid`
 * when it is not an X.509 certificate.
 */
export function toPem(certificate: string): string {
  const body = certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw metadataError('a certificate is not base64');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw metadataError('a signing certificate is not a valid X.509 certificate');
  }
  return pem;
}

/** What an operator wants to know of a certificate: who, until when, which one. */
export function describeCertificate(pem: string): {
  subject: string;
  notAfter: string;
  sha256: string;
} {
  const certificate = new X509Certificate(pem);
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    notAfter: new Date(certificate.validTo).toISOString(),
    sha256: certificate.fingerprint256,
  };
}

/** Most redirects followed when fetching metadata (IdPs move their metadata URLs). */
export const IDP_METADATA_MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches IdP metadata from a URL, with a time limit for the whole exchange (redirects
 * included) and a byte cap, then parses it. Every hop goes through the outbound policy: a
 * loopback, private or link-local address is refused unless ROSTER_OUTBOUND_ALLOW_HOSTS lists
 * it. Any failure is an `Invalid` CoreError naming the URL's problem.
 *
 * @example
 * const { metadata } = await fetchIdpMetadata(url, { policy: outboundPolicyFrom(config.outboundAllowHosts) });
 */
export async function fetchIdpMetadata(
  url: string,
  options: { policy: OutboundPolicy; timeoutMs?: number; maxBytes?: number; now?: Date },
): Promise<{ xml: string; metadata: IdpMetadata }> {
  const maxBytes = options.maxBytes ?? MAX_IDP_METADATA_BYTES;
  let current = parseHttpUrl(url);
  const fail = (why: string) =>
    invalid(`could not fetch IdP metadata from ${current.origin}${current.pathname}: ${why}`, {
      field: 'metadataUrl',
    });
  const deadline = performance.now() + (options.timeoutMs ?? IDP_METADATA_FETCH_TIMEOUT_MS);
  for (let redirects = 0; ; redirects++) {
    let response: OutboundResponse;
    try {
      response = await sendOutbound(
        current.href,
        {
          method: 'GET',
          headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
        },
        {
          policy: options.policy,
          timeoutMs: Math.max(1, Math.round(deadline - performance.now())),
          maxResponseBytes: maxBytes,
        },
      );
    } catch (error) {
      if (!(error instanceof OutboundError)) throw error;
      throw fail(error.reason === 'timeout' ? 'it did not answer in time' : error.message);
    }
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(response.status) && location) {
      if (redirects >= IDP_METADATA_MAX_REDIRECTS)
        throw fail(`more than ${IDP_METADATA_MAX_REDIRECTS} redirects`);
      const next = parseHttpUrl(new URL(location, current).href);
      // The metadata carries the certificates sign-ins are trusted by: never over a downgrade.
      if (current.protocol === 'https:' && next.protocol === 'http:')
        throw fail('it redirects from https to http');
      current = next;
      continue;
    }
    if (response.status < 200 || response.status > 299) throw fail(`HTTP ${response.status}`);
    if (response.body === undefined) throw fail(`larger than ${maxBytes} bytes`);
    return { xml: response.body, metadata: parseIdpMetadata(response.body, options.now) };
  }
}

function parseHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`metadata URL "${url.slice(0, 200)}" is not a URL`, { field: 'metadataUrl' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw invalid('the metadata URL must be http or https', { field: 'metadataUrl' });
  return parsed;
}
