// SCIM clients at a tenant's OpenID Provider: the client credentials grant (RFC 6749 §4.4) gives
// a registered SCIM client a JWT access token (RFC 9068) whose audience is the tenant's SCIM URL,
// the one resource it may ask for (RFC 8707); the SCIM app checks it against the tenant's keys.
import {
  DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES,
  findScimClient,
  SCIM_TOKEN_SCOPE,
  SIGNING_ALGORITHM,
  tenantScimUrl,
  type Db,
  type OidcApp,
  type Tenant,
} from '@roster/core';
import { errors, type AdapterPayload, type Configuration } from './oidc-provider-lib.js';

/** What a tenant's provider needs to serve its SCIM clients. */
export interface ScimClientsOptions {
  readonly db: Db;
  readonly tenant: Tenant;
  /** Public base URL of the SCIM app (SCIM_BASE_URL); without it SCIM clients are not served. */
  readonly scimBaseUrl: string | undefined;
}

const CLIENT_CREDENTIALS = 'client_credentials';

/**
 * A SCIM client as oidc-provider's client metadata: confidential, the client credentials grant
 * only, no redirect URIs. The secret is checked against its hash (`providers.ts`), so the
 * metadata carries a placeholder.
 */
export function scimClientMetadataOf(app: OidcApp, secretPlaceholder: string): AdapterPayload {
  return {
    client_id: app.clientId,
    client_name: app.name,
    client_secret: secretPlaceholder,
    // Basic and post are interchangeable at the library's token endpoint (Entra posts).
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [CLIENT_CREDENTIALS],
    response_types: [],
    redirect_uris: [],
  };
}

interface ClientLike {
  readonly clientId: string;
  readonly grantTypes?: readonly string[];
}

const isScimClient = (client: ClientLike | undefined) =>
  client?.grantTypes?.includes(CLIENT_CREDENTIALS) === true;

/**
 * The provider configuration with the client credentials grant for SCIM clients added: the
 * resource is always the tenant's SCIM URL (the default when the client names none, as Entra
 * does), the token a JWT signed with the tenant's current key, living the client's lifetime.
 * Without a SCIM base URL the configuration is returned as it is.
 */
export function withScimClients(
  configuration: Configuration,
  options: ScimClientsOptions,
): Configuration {
  const { db, tenant, scimBaseUrl } = options;
  if (scimBaseUrl === undefined) return configuration;
  const scimUrl = tenantScimUrl(scimBaseUrl, tenant.slug);
  return {
    ...configuration,
    features: {
      ...configuration.features,
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, client, oneOf) =>
          isScimClient(client as ClientLike) ? scimUrl : oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: async (_ctx, resource, client) => {
          // Only SCIM clients get resource-bound tokens, and only for their tenant's SCIM URL.
          if (!isScimClient(client as ClientLike) || resource !== scimUrl)
            throw new errors.InvalidTarget();
          const scimClient = await findScimClient(db, tenant.id, client.clientId);
          if (!scimClient) throw new errors.InvalidClient('client is invalid');
          return {
            scope: SCIM_TOKEN_SCOPE,
            audience: scimUrl,
            accessTokenTTL: scimClient.tokenLifetimeMinutes * 60,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALGORITHM } },
          };
        },
      },
    },
    ttl: {
      ...configuration.ttl,
      ClientCredentials: (_ctx, token) =>
        token.resourceServer?.accessTokenTTL ?? DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES * 60,
    },
  };
}
