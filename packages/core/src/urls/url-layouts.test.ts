import { describe, expect, it } from 'vitest';
import { serviceProviderUrls, tenantSsoPath } from '../saml/sp-urls.js';
import {
  fillPath,
  SCIM_PATHS,
  SSO_PATHS,
  tenantDiscoveryUrl,
  tenantIssuerUrl,
  tenantScimUrl,
} from './url-layouts.js';

describe('URL layouts', () => {
  it.each([
    [SCIM_PATHS.tenantBase, { tenant: 'acme' }, '/scim/v2/acme'],
    [SSO_PATHS.tenantBase, { tenant: 'acme' }, '/saml/acme'],
    [SSO_PATHS.landing, { tenant: 'acme' }, '/saml/acme/'],
    [SSO_PATHS.acs, { tenant: 'acme', idp: 'a b/c' }, '/saml/acme/a%20b%2Fc/acs'],
  ])('fills %s', (template, params, expected) => {
    expect(fillPath(template, params as never)).toBe(expected);
  });

  it('builds the addresses people are given from the same templates the apps mount', () => {
    expect(tenantScimUrl('https://scim.example.com', 'acme')).toBe(
      'https://scim.example.com/scim/v2/acme',
    );
    expect(tenantSsoPath('acme')).toBe('/saml/acme');
    expect(serviceProviderUrls('https://sso.example.com', 'acme', 'idp-1')).toEqual({
      entityId: 'https://sso.example.com/saml/acme/idp-1/metadata',
      metadataUrl: 'https://sso.example.com/saml/acme/idp-1/metadata',
      acsUrl: 'https://sso.example.com/saml/acme/idp-1/acs',
      loginUrl: 'https://sso.example.com/saml/acme/idp-1/login',
      sloUrl: 'https://sso.example.com/saml/acme/idp-1/slo',
      whoamiUrl: 'https://sso.example.com/saml/acme/whoami',
      logoutUrl: 'https://sso.example.com/saml/acme/logout',
      landingUrl: 'https://sso.example.com/saml/acme/',
    });
  });

  it("puts a tenant's issuer under the SSO app, discovery under the issuer", () => {
    const issuer = tenantIssuerUrl('https://sso.example.com', 'acme');
    expect(issuer).toBe('https://sso.example.com/oidc/acme');
    expect(tenantDiscoveryUrl('https://sso.example.com', 'acme')).toBe(
      `${issuer}/.well-known/openid-configuration`,
    );
  });
});
