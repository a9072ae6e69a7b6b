// A SAML identity provider for tests and benchmarks: its own key and self-signed certificate made
// at run time (never committed), metadata, and Responses signed with xml-crypto the way Okta and
// Entra sign them. Not for production: it signs whatever it is asked to.
import { createSign, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import { encrypt } from 'xml-encryption';

export interface TestKeyPair {
  readonly privateKey: string;
  readonly certificate: string;
}

/** A fresh RSA-2048 key and a self-signed certificate for it (CN as given). */
export async function createTestKeyPair(commonName = 'test-idp'): Promise<TestKeyPair> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 86_400_000),
  });
  return { privateKey: pems.private, certificate: pems.cert };
}

const escapeXml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
const certificateBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
const newId = () => `_${randomBytes(16).toString('hex')}`;
const iso = (ms: number) => new Date(ms).toISOString();

export const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

export interface ResponseOptions {
  readonly acsUrl: string;
  readonly audience: string;
  readonly nameId: string;
  readonly inResponseTo?: string | undefined;
  readonly nameIdFormat?: string;
  readonly attributes?: Readonly<Record<string, string | readonly string[]>>;
  /** Which elements get an enveloped signature (default both, the assertion first). */
  readonly sign?: 'both' | 'assertion' | 'response' | 'none';
  /** Signing key (default the IdP's own). */
  readonly signingKey?: string;
  readonly signatureAlgorithm?: 'sha256' | 'sha1';
  /** The References' digest (default: that of `signatureAlgorithm`). */
  readonly digestAlgorithm?: 'sha256' | 'sha1';
  readonly issuer?: string;
  readonly assertionIssuer?: string;
  /** null: no Destination attribute. */
  readonly destination?: string | null;
  readonly recipient?: string;
  readonly subjectConfirmationMethod?: string;
  readonly now?: number;
  readonly issueInstant?: number;
  readonly notBefore?: number;
  readonly notOnOrAfter?: number;
  readonly subjectNotOnOrAfter?: number;
  readonly assertionId?: string;
  readonly sessionIndex?: string;
  /** Encrypt the (signed) assertion for this SP certificate. */
  readonly encryptFor?: string;
}

export interface SignedResponse {
  /** The XML as it would be posted (before base64). */
  readonly xml: string;
  readonly assertionId: string;
}

const SIGNATURE_ALGORITHMS = {
  sha256: {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  sha1: {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
} as const;

/**
 * Signs the element with this local name (the first one) with an enveloped signature placed
 * right after its Issuer, where the SAML schema wants it.
 */
export function signElement(
  xml: string,
  element: 'Assertion' | 'Response',
  privateKey: string,
  options: { certificate?: string; algorithm?: 'sha256' | 'sha1'; digest?: 'sha256' | 'sha1' } = {},
): string {
  const algorithm = SIGNATURE_ALGORITHMS[options.algorithm ?? 'sha256'];
  const digest = SIGNATURE_ALGORITHMS[options.digest ?? options.algorithm ?? 'sha256'].digest;
  const signer = new SignedXml({
    privateKey,
    ...(options.certificate ? { publicCert: options.certificate } : {}),
    signatureAlgorithm: algorithm.signature,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  const target = `//*[local-name(.)='${element}']`;
  signer.addReference({
    xpath: target,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: digest,
  });
  signer.computeSignature(xml, {
    location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signer.getSignedXml();
}

export class TestIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly sloUrl: string;
  readonly keys: TestKeyPair;

  constructor(
    keys: TestKeyPair,
    options: { entityId?: string; ssoUrl?: string; sloUrl?: string } = {},
  ) {
    this.keys = keys;
    this.entityId = options.entityId ?? 'https://idp.example.test/metadata';
    this.ssoUrl = options.ssoUrl ?? 'https://idp.example.test/sso';
    this.sloUrl = options.sloUrl ?? 'https://idp.example.test/slo';
  }

  static async create(options: { entityId?: string; ssoUrl?: string; sloUrl?: string } = {}) {
    return new TestIdp(await createTestKeyPair(), options);
  }

  /** IdP metadata, with extra signing certificates (rotation) if given. */
  metadataXml(options: { extraCertificates?: readonly string[]; withSlo?: boolean } = {}): string {
    const keyDescriptors = [this.keys.certificate, ...(options.extraCertificates ?? [])]
      .map(
        (pem) =>
          `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
      )
      .join('');
    const slo =
      options.withSlo === false
        ? ''
        : `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(this.sloUrl)}"/>`;
    return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(this.entityId)}">
<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keyDescriptors}${slo}
<md:NameIDFormat>${EMAIL_FORMAT}</md:NameIDFormat>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(this.ssoUrl)}"/>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(this.ssoUrl)}"/>
</md:IDPSSODescriptor></md:EntityDescriptor>`;
  }

  /** The AuthnRequest carried by a login redirect's Location. */
  readAuthnRequest(location: string): { id: string; acsUrl: string; issuer: string; xml: string } {
    const url = new URL(location);
    const encoded = url.searchParams.get('SAMLRequest');
    if (!encoded) throw new Error('no SAMLRequest in the redirect');
    const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
    const pick = (pattern: RegExp) => pattern.exec(xml)?.[1] ?? '';
    return {
      id: pick(/\sID="([^"]+)"/),
      acsUrl: pick(/AssertionConsumerServiceURL="([^"]+)"/),
      issuer: pick(/<(?:\w+:)?Issuer[^>]*>([^<]+)</),
      xml,
    };
  }

  /** The assertion alone (unsigned), for building tampered responses. */
  assertionXml(o: ResponseOptions, assertionId: string): string {
    const now = o.now ?? Date.now();
    const attributes = Object.entries(o.attributes ?? {})
      .map(
        ([name, value]) =>
          `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${(typeof value ===
          'string'
            ? [value]
            : value
          )
            .map(
              (v) =>
                `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`,
            )
            .join('')}</saml:Attribute>`,
      )
      .join('');
    const inResponseTo = o.inResponseTo ? ` InResponseTo="${escapeXml(o.inResponseTo)}"` : '';
    return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${iso(o.issueInstant ?? now)}"><saml:Issuer>${escapeXml(o.assertionIssuer ?? o.issuer ?? this.entityId)}</saml:Issuer><saml:Subject><saml:NameID Format="${escapeXml(o.nameIdFormat ?? EMAIL_FORMAT)}">${escapeXml(o.nameId)}</saml:NameID><saml:SubjectConfirmation Method="${escapeXml(o.subjectConfirmationMethod ?? BEARER)}"><saml:SubjectConfirmationData NotOnOrAfter="${iso(o.subjectNotOnOrAfter ?? now + 300_000)}" Recipient="${escapeXml(o.recipient ?? o.acsUrl)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="${iso(o.notBefore ?? now - 30_000)}" NotOnOrAfter="${iso(o.notOnOrAfter ?? now + 300_000)}"><saml:AudienceRestriction><saml:Audience>${escapeXml(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="${escapeXml(o.sessionIndex ?? newId())}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>${attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : ''}</saml:Assertion>`;
  }

  /** A Response around `assertion` (any XML), unsigned. */
  responseXml(o: ResponseOptions, inner: string): string {
    const now = o.now ?? Date.now();
    const destination =
      o.destination === null ? '' : ` Destination="${escapeXml(o.destination ?? o.acsUrl)}"`;
    const inResponseTo = o.inResponseTo ? ` InResponseTo="${escapeXml(o.inResponseTo)}"` : '';
    return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${iso(o.issueInstant ?? now)}"${destination}${inResponseTo}><saml:Issuer>${escapeXml(o.issuer ?? this.entityId)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${inner}</samlp:Response>`;
  }

  /** A signed (by default) SAML Response, as an IdP would post it. */
  async response(o: ResponseOptions): Promise<SignedResponse> {
    const assertionId = o.assertionId ?? newId();
    const key = o.signingKey ?? this.keys.privateKey;
    const sign = o.sign ?? 'both';
    const signing = {
      certificate: this.keys.certificate,
      algorithm: o.signatureAlgorithm ?? 'sha256',
      ...(o.digestAlgorithm ? { digest: o.digestAlgorithm } : {}),
    } as const;
    let assertion = this.assertionXml(o, assertionId);
    if (sign === 'both' || sign === 'assertion')
      assertion = signElement(assertion, 'Assertion', key, signing);
    if (o.encryptFor) assertion = await encryptAssertion(assertion, o.encryptFor);
    let xml = this.responseXml(o, assertion);
    if (sign === 'both' || sign === 'response') xml = signElement(xml, 'Response', key, signing);
    return { xml, assertionId };
  }

  /** A LogoutRequest by HTTP-Redirect, signed over the query string (bindings §3.4.4.1). */
  logoutRequestQuery(o: {
    sloUrl: string;
    nameId: string;
    sessionIndex?: string;
    destination: string;
  }): string {
    const xml = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${escapeXml(o.destination)}"><saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer><saml:NameID Format="${EMAIL_FORMAT}">${escapeXml(o.nameId)}</saml:NameID>${o.sessionIndex ? `<samlp:SessionIndex>${escapeXml(o.sessionIndex)}</samlp:SessionIndex>` : ''}</samlp:LogoutRequest>`;
    return this.signedRedirectQuery('SAMLRequest', xml);
  }

  /** A LogoutResponse by HTTP-Redirect to a LogoutRequest id. */
  logoutResponseQuery(o: { inResponseTo: string; destination: string }): string {
    const xml = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${escapeXml(o.destination)}" InResponseTo="${escapeXml(o.inResponseTo)}"><saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
    return this.signedRedirectQuery('SAMLResponse', xml);
  }

  private signedRedirectQuery(kind: 'SAMLRequest' | 'SAMLResponse', xml: string): string {
    const params = new URLSearchParams({
      [kind]: deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'),
      SigAlg: SIGNATURE_ALGORITHMS.sha256.signature,
    });
    const signer = createSign('RSA-SHA256');
    signer.update(params.toString());
    params.set('Signature', signer.sign(this.keys.privateKey, 'base64'));
    return params.toString();
  }
}

/** Base64 of a Response, as the HTTP-POST binding carries it. */
export const toPostBinding = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64');

async function encryptAssertion(assertion: string, spCertificate: string): Promise<string> {
  const encrypted = await new Promise<string>((resolve, reject) =>
    encrypt(
      assertion,
      {
        rsa_pub: spCertificate,
        pem: spCertificate,
        encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
  return `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>`;
}
