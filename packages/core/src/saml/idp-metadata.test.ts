import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundPolicyFrom } from '../outbound/outbound-policy.js';
import { fetchIdpMetadata, MAX_IDP_METADATA_BYTES, parseIdpMetadata } from './idp-metadata.js';

let certificate: string;
let second: string;
beforeAll(async () => {
  const make = async () =>
    (
      await generate([{ name: 'commonName', value: 'idp' }], {
        keySize: 2048,
        notAfterDate: new Date(Date.now() + 86_400_000),
      })
    ).cert;
  [certificate, second] = await Promise.all([make(), make()]);
});

const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

function metadata(
  options: {
    certs?: string[];
    sso?: string;
    slo?: boolean;
    entityId?: string;
    validUntil?: string;
  } = {},
) {
  const keys = (options.certs ?? [certificate])
    .map(
      (pem) =>
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${options.entityId ?? 'https://idp.example/e'}"${options.validUntil ? ` validUntil="${options.validUntil}"` : ''}><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}${options.slo === false ? '' : `<md:SingleLogoutService Binding="${REDIRECT}" Location="https://idp.example/slo"/>`}${options.sso ?? `<md:SingleSignOnService Binding="${REDIRECT}" Location="https://idp.example/sso"/>`}</md:IDPSSODescriptor></md:EntityDescriptor>`;
}

describe('parseIdpMetadata', () => {
  it('refuses an entityID too big to index (1,000 random CJK characters are ~3 KB)', () => {
    const wide = Array.from({ length: 1000 }, () =>
      String.fromCodePoint(0x4e00 + Math.floor(Math.random() * 20_000)),
    ).join('');
    expect(() => parseIdpMetadata(metadata({ entityId: wide }))).toThrow(/2048 bytes/);
  });

  it('reads entityID, the redirect sign-on and logout URLs and every signing certificate', () => {
    const parsed = parseIdpMetadata(metadata({ certs: [certificate, second] }));
    expect(parsed.entityId).toBe('https://idp.example/e');
    expect(parsed.ssoUrl).toBe('https://idp.example/sso');
    expect(parsed.sloUrl).toBe('https://idp.example/slo');
    expect(parsed.signingCertificates).toHaveLength(2);
    expect(parsed.signingCertificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it.each([
    ['not XML', 'this is not xml', /not well-formed XML|root element/],
    ['empty', '  ', /empty/],
    ['a DOCTYPE', '<!DOCTYPE x><x/>', /DOCTYPE/],
    ['another root', '<foo xmlns="urn:x"/>', /root element is <foo>/],
    [
      'SP metadata',
      '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor/></md:EntityDescriptor>',
      /no IDPSSODescriptor/,
    ],
  ])('refuses %s, naming the problem', (_what, xml, message) => {
    expect(() => parseIdpMetadata(xml)).toThrow(message);
  });

  it('refuses metadata without a redirect sign-on URL, certificate or entityID', () => {
    expect(() =>
      parseIdpMetadata(
        metadata({
          sso: '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso"/>',
        }),
      ),
    ).toThrow(/HTTP-Redirect/);
    expect(() => parseIdpMetadata(metadata({ certs: [] }))).toThrow(/no signing certificate/);
    expect(() => parseIdpMetadata(metadata({ entityId: '' }))).toThrow(/no entityID/);
    expect(() => parseIdpMetadata(metadata({ certs: ['bm90IGEgY2VydA=='] }))).toThrow(
      /not a valid X.509 certificate/,
    );
  });

  it('refuses expired metadata and certificates that all expired', () => {
    expect(() => parseIdpMetadata(metadata({ validUntil: '2001-01-01T00:00:00Z' }))).toThrow(
      /expired/,
    );
    expect(() => parseIdpMetadata(metadata(), new Date(Date.now() + 2 * 86_400_000))).toThrow(
      /every signing certificate has expired/,
    );
  });

  it('refuses documents over the size limit', () => {
    expect(() => parseIdpMetadata(`<x>${'a'.repeat(MAX_IDP_METADATA_BYTES)}</x>`)).toThrow(
      /larger than/,
    );
  });
});

describe('fetchIdpMetadata', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end(metadata());
      else if (req.url === '/big') {
        res.write('<x>');
        res.end('a'.repeat(2048));
      } else if (req.url === '/slow') setTimeout(() => res.end(metadata()), 2_000);
      else if (req.url?.startsWith('/hop/')) {
        const left = Number(req.url.slice('/hop/'.length));
        res.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : '/ok' });
        res.end();
      } else if (req.url === '/to-metadata-service') {
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const policy = outboundPolicyFrom('127.0.0.1');

  it('fetches and parses', async () => {
    const { metadata: parsed, xml } = await fetchIdpMetadata(`${base}/ok`, { policy });
    expect(parsed.entityId).toBe('https://idp.example/e');
    expect(xml).toContain('EntityDescriptor');
  });

  it('stops at the byte cap, the time limit, an HTTP error or a bad URL', async () => {
    await expect(fetchIdpMetadata(`${base}/big`, { policy, maxBytes: 1024 })).rejects.toThrow(
      /larger than 1024 bytes/,
    );
    await expect(fetchIdpMetadata(`${base}/slow`, { policy, timeoutMs: 200 })).rejects.toThrow(
      /did not answer in time/,
    );
    await expect(fetchIdpMetadata(`${base}/missing`, { policy })).rejects.toThrow(/HTTP 404/);
    await expect(fetchIdpMetadata('ftp://x/y', { policy })).rejects.toThrow(/http or https/);
  });

  it('refuses 127.0.0.1 unless ROSTER_OUTBOUND_ALLOW_HOSTS lists it', async () => {
    await expect(
      fetchIdpMetadata(`${base}/ok`, { policy: outboundPolicyFrom(undefined) }),
    ).rejects.toThrow(/could not fetch IdP metadata .*127\.0\.0\.1 is a loopback address/);
    await expect(
      fetchIdpMetadata(`${base}/ok`, { policy: outboundPolicyFrom('10.0.0.0/8') }),
    ).rejects.toThrow(/ROSTER_OUTBOUND_ALLOW_HOSTS/);
  });

  it('follows up to 3 redirects, checking every hop against the policy', async () => {
    const { metadata: parsed } = await fetchIdpMetadata(`${base}/hop/2`, { policy });
    expect(parsed.entityId).toBe('https://idp.example/e');
    await expect(fetchIdpMetadata(`${base}/hop/3`, { policy })).rejects.toThrow(
      /more than 3 redirects/,
    );
    await expect(fetchIdpMetadata(`${base}/to-metadata-service`, { policy })).rejects.toThrow(
      /169\.254\.169\.254 is a cloud metadata address/,
    );
  });
});
