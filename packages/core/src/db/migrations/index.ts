import type { Migration } from 'kysely';
import * as createDirectory from './202611230400_create_directory.js';
import * as scimSearch from './202611230500_scim_search.js';
import * as scimRequestLog from './202611230510_scim_request_log.js';
import * as addSamlSsoDetails from './202611230520_add_saml_sso_details.js';
import * as trimIdentityKeys from './202612030100_trim_identity_keys.js';
import * as oidcRegistry from './202612030200_oidc_registry.js';
import * as outboundDeliveries from './202612030210_outbound_deliveries.js';
import * as oidcProviderStorage from './202612030220_oidc_provider_storage.js';
import * as scimClientTokenLifetime from './202612031700_scim_client_token_lifetime.js';
import * as webhooks from './202612032010_webhooks.js';
import * as eventsTokens from './202612032020_events_tokens.js';
import * as eventsRetention from './202612032030_events_retention.js';
import * as changeOutboxEntity from './202612032100_change_outbox_entity.js';

/** Every migration, in order. Append only; a shipped migration never changes. */
export const migrations: Record<string, Migration> = {
  '202611230400_create_directory': createDirectory,
  '202611230500_scim_search': scimSearch,
  '202611230510_scim_request_log': scimRequestLog,
  '202611230520_add_saml_sso_details': addSamlSsoDetails,
  '202612030100_trim_identity_keys': trimIdentityKeys,
  '202612030200_oidc_registry': oidcRegistry,
  '202612030210_outbound_deliveries': outboundDeliveries,
  '202612030220_oidc_provider_storage': oidcProviderStorage,
  '202612031700_scim_client_token_lifetime': scimClientTokenLifetime,
  '202612032010_webhooks': webhooks,
  '202612032020_events_tokens': eventsTokens,
  '202612032030_events_retention': eventsRetention,
  '202612032100_change_outbox_entity': changeOutboxEntity,
};
