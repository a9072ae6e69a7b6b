import SCIMMY from 'scimmy';
import { declareScimResources } from './patch/scim-resources.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** Most operations one /Bulk request may carry (advertised in ServiceProviderConfig). */
export const MAX_BULK_OPERATIONS = 1000;
/** Largest request body, /Bulk included (advertised as bulk.maxPayloadSize). */
export const MAX_SCIM_PAYLOAD_BYTES = 1_048_576;

/**
 * scimmy's configuration and resource declarations are process-wide (`SCIMMY.Config` and
 * `Resources.declare` are module state), so they are set once, identically for every tenant; the
 * tenant travels with each request, never through scimmy. The configuration states only what
 * this server really does.
 */
let configured = false;
export function configureScimmy(options: { maxResults: number }): void {
  if (configured) return;
  declareScimResources();
  // authenticationSchemes appends on every set(): reset it first.
  SCIMMY.Config.set({ authenticationSchemes: [] });
  SCIMMY.Config.set({
    documentationUri: 'https://github.com/roster-dev/roster#scim',
    patch: true,
    bulk: {
      supported: true,
      maxOperations: MAX_BULK_OPERATIONS,
      maxPayloadSize: MAX_SCIM_PAYLOAD_BYTES,
    },
    filter: { supported: true, maxResults: options.maxResults },
    sort: true,
    etag: true,
    changePassword: false,
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'A per-tenant token issued with `roster token create <tenant>`, sent as `Authorization: Bearer <token>`.',
        specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
        primary: true,
      },
    ],
  });
  configured = true;
}
