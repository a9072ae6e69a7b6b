export { createScimApp, MAX_SCIM_PAYLOAD_BYTES, type ScimAppDeps } from './app.js';
export { MAX_LOGGED_UNAUTHENTICATED_PER_MINUTE } from './request-log/request-log.middleware.js';
export { limitScimRequestsPerTenant } from './rate-limit/tenant-rate-limit.js';
export {
  DEFAULT_SCIM_RATE_LIMIT_BURST,
  DEFAULT_SCIM_RATE_LIMIT_PER_SECOND,
  scimConfigSchema,
  type ScimConfig,
  type ScimRateLimit,
} from './config.js';
