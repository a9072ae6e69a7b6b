/**
 * Where the apps' public endpoints live, each written once in express path syntax: the apps mount
 * their routes on these templates, and core fills them in with {@link fillPath} to tell an IdP
 * admin or an operator the addresses (a tenant's SCIM base, the SP's metadata and ACS).
 */

/** The SCIM app: a tenant's SCIM 2.0 base, under which /Users, /Groups, /Bulk … are mounted. */
export const SCIM_PATHS = {
  tenantBase: '/scim/v2/:tenant',
} as const;

/** The SSO app: per tenant and IdP the SAML endpoints, per tenant the session's own pages. */
export const SSO_PATHS = {
  /** Prefix of every SSO path of a tenant (the session cookie's Path). */
  tenantBase: '/saml/:tenant',
  /** The page a person lands on after login when no returnTo was given. */
  landing: '/saml/:tenant/',
  whoami: '/saml/:tenant/whoami',
  logout: '/saml/:tenant/logout',
  /** SP metadata; its URL is also the SP entityID (the audience the IdP must name). */
  metadata: '/saml/:tenant/:idp/metadata',
  login: '/saml/:tenant/:idp/login',
  /** Assertion Consumer Service (HTTP-POST). */
  acs: '/saml/:tenant/:idp/acs',
  /** Single logout service (HTTP-Redirect). */
  slo: '/saml/:tenant/:idp/slo',
} as const;

/** The SSO app's OpenID Provider: one issuer per tenant (OpenID Connect Discovery 1.0 §4). */
export const OIDC_PATHS = {
  /** The issuer identifier's path; every OpenID Provider endpoint of the tenant is under it. */
  issuer: '/oidc/:tenant',
  /** The discovery document: the issuer followed by this suffix (Discovery §4.1). */
  discovery: '/oidc/:tenant/.well-known/openid-configuration',
  /** Where an authorization that needs a sign-in goes: the tenant's IdP, or a chooser. */
  interaction: '/oidc/:tenant/interaction/:uid',
  /** The chooser's choice of one IdP. */
  interactionConnection: '/oidc/:tenant/interaction/:uid/connection/:idp',
  /** Where the authorization resumes once the person signed in (oidc-provider's `resume`). */
  resume: '/oidc/:tenant/auth/:uid',
} as const;

/** The admin API (`roster` CLI's server): paths under {@link ADMIN_API_ROOT}. */
export const ADMIN_PATHS = {
  tenants: '/tenants',
  tenant: '/tenants/:slug',
  scimTokens: '/tenants/:slug/scim-tokens',
  scimToken: '/tenants/:slug/scim-tokens/:id',
  users: '/tenants/:slug/users',
  audit: '/tenants/:slug/audit',
  explain: '/tenants/:slug/explain',
  scimLog: '/tenants/:slug/scim-log',
  idps: '/tenants/:slug/idps',
  idp: '/tenants/:slug/idps/:idp',
  apps: '/tenants/:slug/apps',
  app: '/tenants/:slug/apps/:clientId',
  appSecretRotation: '/tenants/:slug/apps/:clientId/rotate-secret',
  oidcKeys: '/tenants/:slug/oidc/keys',
  oidcKeyRotation: '/tenants/:slug/oidc/rotate-keys',
  scimClients: '/tenants/:slug/scim-clients',
  scimClient: '/tenants/:slug/scim-clients/:clientId',
  scimClientSecretRotation: '/tenants/:slug/scim-clients/:clientId/rotate-secret',
  /** A tenant's events, read with the admin token or an events token of the tenant. */
  events: '/tenants/:slug/events',
  eventsTokens: '/tenants/:slug/events-tokens',
  eventsToken: '/tenants/:slug/events-tokens/:id',
  webhooks: '/tenants/:slug/webhooks',
  webhook: '/tenants/:slug/webhooks/:id',
  webhookSecretRotation: '/tenants/:slug/webhooks/:id/rotate-secret',
  webhookDisable: '/tenants/:slug/webhooks/:id/disable',
  webhookEnable: '/tenants/:slug/webhooks/:id/enable',
  webhookTest: '/tenants/:slug/webhooks/:id/test',
  webhookDeliveries: '/tenants/:slug/webhooks/:id/deliveries',
  webhookReplay: '/tenants/:slug/webhooks/:id/replay',
  purge: '/jobs/purge',
} as const;

/** The admin API's version prefix, in front of every {@link ADMIN_PATHS} path. */
export const ADMIN_API_ROOT = '/v1';

/** The `:name` parameters of a path template, as a union of their names. */
export type PathParams<T extends string> = T extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParams<`/${Rest}`>
  : T extends `${string}:${infer Name}`
    ? Name
    : never;

/**
 * A path template with its parameters filled in, each URL-encoded.
 *
 * @example
 * fillPath(SSO_PATHS.acs, { tenant: 'acme', idp: id }) // '/saml/acme/<id>/acs'
 */
export function fillPath<T extends string>(
  template: T,
  params: Record<PathParams<T>, string>,
): string {
  const values: Record<string, string> = params;
  return template.replace(/:(\w+)/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${template}`);
    return encodeURIComponent(value);
  });
}

/** A tenant's SCIM endpoint under the SCIM app's public base URL (SCIM_BASE_URL). */
export function tenantScimUrl(scimBaseUrl: string, slug: string): string {
  return `${scimBaseUrl}${fillPath(SCIM_PATHS.tenantBase, { tenant: slug })}`;
}

/** A tenant's token endpoint, where SCIM clients get access tokens (client credentials grant). */
export function tenantTokenUrl(ssoBaseUrl: string, tenantSlug: string): string {
  return `${tenantIssuerUrl(ssoBaseUrl, tenantSlug)}/token`;
}

/** A tenant's OpenID Provider issuer under the SSO app's public base URL (SSO_BASE_URL). */
export function tenantIssuerUrl(ssoBaseUrl: string, tenantSlug: string): string {
  return `${ssoBaseUrl}${fillPath(OIDC_PATHS.issuer, { tenant: tenantSlug })}`;
}

/** Where a tenant's OpenID Provider configuration is published (Discovery §4). */
export function tenantDiscoveryUrl(ssoBaseUrl: string, tenantSlug: string): string {
  return `${ssoBaseUrl}${fillPath(OIDC_PATHS.discovery, { tenant: tenantSlug })}`;
}
