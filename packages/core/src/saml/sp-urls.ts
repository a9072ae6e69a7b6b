import { fillPath, SSO_PATHS } from '../urls/url-layouts.js';

/** The service provider's addresses for one IdP of a tenant: what an IdP admin pastes. */
export interface ServiceProviderUrls {
  /** SP entityID (the Audience the IdP must put in assertions); also where the SP metadata is. */
  readonly entityId: string;
  readonly metadataUrl: string;
  /** Assertion Consumer Service (HTTP-POST): the Reply URL / Single sign-on URL. */
  readonly acsUrl: string;
  /** SP-initiated login; `?returnTo=` an allowed origin's page. */
  readonly loginUrl: string;
  /** Single logout service (HTTP-Redirect). */
  readonly sloUrl: string;
  readonly whoamiUrl: string;
  readonly logoutUrl: string;
  /** The page a person lands on after login when no returnTo was given. */
  readonly landingUrl: string;
}

/** Path prefix of a tenant's SSO endpoints. */
export const tenantSsoPath = (slug: string): string =>
  fillPath(SSO_PATHS.tenantBase, { tenant: slug });

/**
 * The SP's URLs under SSO_BASE_URL. One entityID per (tenant, IdP), so an assertion made for
 * one tenant's Roster is never accepted by another's (audience check).
 */
export function serviceProviderUrls(
  ssoBaseUrl: string,
  slug: string,
  idpId: string,
): ServiceProviderUrls {
  const url = (template: (typeof SSO_PATHS)[keyof typeof SSO_PATHS]) =>
    `${ssoBaseUrl}${fillPath(template, { tenant: slug, idp: idpId })}`;
  return {
    entityId: url(SSO_PATHS.metadata),
    metadataUrl: url(SSO_PATHS.metadata),
    acsUrl: url(SSO_PATHS.acs),
    loginUrl: url(SSO_PATHS.login),
    sloUrl: url(SSO_PATHS.slo),
    whoamiUrl: url(SSO_PATHS.whoami),
    logoutUrl: url(SSO_PATHS.logout),
    landingUrl: url(SSO_PATHS.landing),
  };
}
