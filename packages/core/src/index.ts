// The public API of @roster/core. Apps import from here only; nothing else is a contract.

// configuration: the shared base and the building blocks of each app's own schema
export {
  baseConfigSchema,
  eventsRetentionConfigSchema,
  LOG_LEVELS,
  scimAddressConfigSchema,
  scimLogConfigSchema,
  ssoAddressConfigSchema,
  type AppAddress,
  type BaseConfig,
  type DatabaseTarget,
  type LogLevel,
} from './config/base.config.js';
export {
  composeConfig,
  ConfigError,
  defineConfig,
  loadConfig,
  type ConfigSchema,
  type InferConfig,
} from './config/load-config.js';
export {
  emptyAsUndefined,
  optionalTextVariable,
  optionalWholeNumberVariable,
  portVariable,
  textVariable,
  wholeNumberVariable,
} from './config/env-values.js';
export { createLogger, REDACTED_PATHS, serializeError, type Logger } from './logger.js';
export { fixedClock, systemClock, type Clock } from './clock.js';
export {
  MAX_TIMESTAMP_YEAR,
  MIN_TIMESTAMP_YEAR,
  parseTimestamp,
  readTimestamp,
} from './timestamp.js';
export {
  assertIndexedText,
  assertStorableText,
  findUnstorableJson,
  isStorableText,
  MAX_INDEXED_TEXT_LENGTH,
  MAX_JSON_DEPTH,
  MAX_VALUES_PER_ATTRIBUTE,
} from './input-limits.js';
export {
  ensureAdminTokenFile,
  readLocalServer,
  removeServerInfo,
  writeServerInfo,
  type ServerInfo,
} from './runtime-files.js';

// errors
export { CoreError, CORE_ERROR_CODES, isCoreError, type CoreErrorCode } from './errors.js';

// storage
export {
  openDatabase,
  type NotifyHandler,
  type PoolStats,
  type RosterDatabase,
} from './db/create-db.js';
export { migrateToLatest, MigrationError } from './db/migrate.js';
export type {
  Database,
  LifecycleState,
  UserSource,
  ActorType,
  OidcAppKind,
  SigningKeyStatus,
} from './db/database.js';
export type { Db } from './db/transaction.js';

// who changes what
export { SYSTEM, type Actor, type ChangeContext } from './context/actor.js';
export { listAuditEvents, type AuditEvent, type AuditQuery } from './audit/audit.repository.js';

// tenants and SCIM tokens
export type { Tenant, TenantSettingsChange } from './tenants/tenant.js';
export {
  createTenant,
  findTenantBySlug,
  getTenantBySlug,
  listTenants,
  updateTenantSettings,
} from './tenants/tenant.repository.js';
export {
  authenticateScimToken,
  createScimToken,
  listScimTokens,
  revokeScimToken,
  type IssuedScimToken,
  type ScimAuthentication,
  type ScimToken,
} from './tenants/scim-token.js';
export {
  MAX_TENANT_TOKEN_DESCRIPTION_LENGTH,
  MAX_TENANT_TOKEN_LIFETIME_DAYS,
  type TenantTokenAuthentication,
} from './tenants/tenant-token.js';

// users
export type { UserSummary } from './users/user.js';
export { findUser, listUsers, MAX_USER_PAGE_SIZE, type UserPage } from './users/user.repository.js';
export { DataDirInUseError, lockDataDir } from './data-dir-lock.js';

// the one user and the rules (README, "The rules")
export type { User, UserAttributes, UserEmail } from './users/user.js';
export { identityKey, NAME_ID_FORMAT } from './reconciliation/identity-key.js';
export {
  decideScimCreate,
  decideScimWrite,
  decideSignIn,
  requestAnswerRequirement,
  type IdentityProviderPolicy,
  type MatchKey,
  type RefusalReason,
  type ScimCreateDecision,
  type ScimCreateOutcome,
  type SignInDecision,
} from './reconciliation/reconcile.js';
export type { ScimChange, WritePreconditions } from './provisioning/locked-write.js';
export {
  createUserFromScim,
  deleteUserFromScim,
  patchUserFromScim,
  replaceUserFromScim,
} from './provisioning/provision-from-scim.js';
// sign-in through a connection of the tenant, whatever its protocol (rules 2 and 3)
export {
  explainSignInAttempt,
  refuseSignIn,
  signIn,
  type AdapterRefusal,
  type AnsweredRequest,
  type Assertion,
  type ConnectionKind,
  type ConnectionPolicy,
  type ProtocolFacts,
  type SignInAttempt,
  type SignInConnection,
  type SignInRefusalReason,
  type SignInResult,
} from './sign-in/sign-in.js';
export { connectionForLoginHint, MAX_LOGIN_HINT_LENGTH } from './sign-in/choose-connection.js';
export { purgeExpiredUsers, type PurgeOptions, type PurgeSummary } from './provisioning/purge.js';
export { deactivateDormantUsers, type CleanupSummary } from './provisioning/cleanup.js';
export { scheduleMaintenance } from './provisioning/maintenance.js';
export { deactivateUser, restoreUser } from './provisioning/lifecycle.js';
export type { Group, GroupAttributes, MemberChange } from './groups/group.js';
export { findGroup } from './groups/group.repository.js';
export {
  createGroupFromScim,
  deleteGroupFromScim,
  MAX_MEMBERS_PER_CHANGE,
  patchGroupFromScim,
  updateGroupFromScim,
  type GroupChange,
} from './provisioning/provision-groups.js';

// directory search: SCIM filters, sorting and paging pushed into SQL
export {
  FILTER_OPERATORS,
  groupsOfUsers,
  INVALID_CURSOR,
  listGroupMembers,
  MAX_MEMBER_PAGE_SIZE,
  MAX_SEARCH_PAGE_SIZE,
  searchGroups,
  searchUsers,
  validateCursor,
  type AttributeRef,
  type AttributeType,
  type DirectoryPage,
  type DirectoryQuery,
  type DirectorySort,
  type Filter,
  type FilterOperator,
  type FilterValue,
  type GroupMember,
  type PageRequest,
  type SearchResource,
} from './search/index.js';
// SCIM request log (README "SCIM request log"): redacted, capped, pruned after its retention
export { type MaintenanceOptions } from './provisioning/maintenance.js';
export {
  bodyForLog,
  MAX_LOGGED_BODY_BYTES,
  REDACTED,
  redactScimBody,
  redactText,
  type TruncatedBody,
} from './scim-log/redaction.js';
export {
  DEFAULT_SCIM_LOG_ENTRIES,
  listScimRequests,
  MAX_LOGGED_PATH_LENGTH,
  MAX_LOGGED_USER_AGENT_LENGTH,
  MAX_SCIM_LOG_ENTRIES,
  parseStatusFilter,
  pruneScimRequestLog,
  recordScimRequest,
  SCIM_LOG_PRUNE_BATCH_SIZE,
  SCIM_LOG_PRUNE_MAX_BATCHES,
  type ScimLogPruneOptions,
  type ScimLogPruneSummary,
  type ScimRequestLogEntry,
  type ScimRequestLogQuery,
  type ScimRequestRecord,
  type ScimStatusFilter,
} from './scim-log/scim-request-log.repository.js';
// Calls Roster makes out: one guard (ROSTER_OUTBOUND_ALLOW_HOSTS) for every one of them
export {
  internalAddressKind,
  MAX_OUTBOUND_ALLOW_ENTRIES,
  OUTBOUND_FAILURE_REASONS,
  OUTBOUND_RESPONSE_EXCERPT_BYTES,
  OutboundError,
  outboundPolicyFrom,
  parseOutboundAllowHosts,
  REFUSED_OUTBOUND_RANGES,
  sendOutbound,
  type OutboundFailureReason,
  type OutboundOptions,
  type OutboundPolicy,
  type OutboundRequest,
  type OutboundResponse,
} from './outbound/outbound-policy.js';
// The delivery queue: calls out sent from the database, at least once, with retries
export {
  DELIVERY_BATCH_SIZE,
  DELIVERY_FIRST_RETRY_MS,
  DELIVERY_GIVE_UP_AFTER_MS,
  DELIVERY_LEASE_MARGIN_MS,
  DELIVERY_MAX_RESPONSE_BYTES,
  DELIVERY_MAX_RETRY_DELAY_MS,
  DELIVERY_MIN_RETRY_DELAY_MS,
  DELIVERIES_CHANNEL,
  DELIVERY_POLL_INTERVAL_MS,
  DELIVERY_RETENTION_MS,
  DELIVERY_TIMEOUT_MS,
  deliverDue,
  enqueueDelivery,
  listDeliveries,
  listDeliveryAttempts,
  MAX_DELIVERIES_LISTED,
  MAX_DELIVERY_PAYLOAD_BYTES,
  MAX_DELIVERY_TARGET_URL_LENGTH,
  pruneDeliveries,
  startDeliveryWorker,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryOptions,
  type DeliveryRenderer,
  type DeliverySummary,
  type DeliveryWorker,
  type PendingDelivery,
} from './outbound/deliveries.js';
export { DELIVERY_STATES, type DeliveryState } from './db/database.js';
// SAML identity providers, the service provider's state, and SSO sessions
export {
  describeCertificate,
  fetchIdpMetadata,
  IDP_METADATA_FETCH_TIMEOUT_MS,
  IDP_METADATA_MAX_REDIRECTS,
  MAX_IDP_METADATA_BYTES,
  MAX_IDP_SIGNING_CERTIFICATES,
  parseIdpMetadata,
  SAML_BINDING,
  toPem,
  type IdpMetadata,
} from './saml/idp-metadata.js';
export { parseXmlStrictly } from './saml/xml.js';
export {
  IDP_PRESET_NAMES,
  IDP_PRESETS,
  JIT_POLICIES,
  MATCH_BY,
  SAML_ATTRIBUTE_FIELDS,
  type IdpMetadataSource,
  type IdpPreset,
  type IdpPresetName,
  type JitPolicy,
  type MatchBy,
  type SamlAttributeField,
  type SamlAttributeMap,
  type SamlIdp,
  type SamlIdpSettings,
} from './saml/saml-idp.js';
export {
  createSamlIdp,
  findSamlIdp,
  getSamlIdp,
  listSamlIdps,
  removeSamlIdp,
  updateSamlIdp,
  type SamlIdpChange,
} from './saml/saml-idp.repository.js';
export {
  lookupSamlRequestId,
  MAX_SAML_ID_LENGTH,
  pruneSamlState,
  saveSamlRequestId,
  type PendingRequest,
  type RequestIdLookup,
} from './saml/saml-state.js';
export {
  explainSignIn,
  samlConnection,
  signInWithSaml,
  type AssertedIdentity,
} from './saml/saml-sign-in.js';
export {
  authenticateSession,
  DEFAULT_SESSION_POLICY,
  endSession,
  endSessionsBySamlLogout,
  findSignedInUser,
  SESSION_TOUCH_INTERVAL_MS,
  sessionIdHash,
  type ActiveSession,
  type SessionPolicy,
  type SignedInUser,
} from './sessions/session.js';
export { serviceProviderUrls, tenantSsoPath, type ServiceProviderUrls } from './saml/sp-urls.js';

// the OpenID Provider's registry: a tenant's apps (OAuth 2.0 clients) and signing keys
export {
  addOidcApp,
  findOidcApp,
  getOidcApp,
  isInsecureAppUri,
  listOidcApps,
  MAX_OIDC_APP_NAME_LENGTH,
  MAX_OIDC_REDIRECT_URIS,
  MAX_OIDC_URI_LENGTH,
  removeOidcApp,
  rotateOidcAppSecret,
  updateOidcApp,
  verifyOidcAppSecret,
  type OidcApp,
  type OidcAppChange,
  type OidcAppInput,
} from './oidc/oidc-app.js';
export {
  listSigningKeys,
  loadSigningKeys,
  MAX_RETIRED_SIGNING_KEYS,
  publicJwks,
  rotateSigningKeys,
  SIGNING_ALGORITHM,
  SIGNING_KEY_BITS,
  type SigningKeyInfo,
  type SigningKeySet,
} from './oidc/signing-keys.js';

// SCIM clients on OAuth: client credentials access tokens for a tenant's SCIM endpoint
export {
  addScimClient,
  DEFAULT_SCIM_TOKEN_LIFETIME_MINUTES,
  findScimClient,
  getScimClient,
  listScimClients,
  MAX_SCIM_TOKEN_LIFETIME_MINUTES,
  MIN_SCIM_TOKEN_LIFETIME_MINUTES,
  removeScimClient,
  rotateScimClientSecret,
  SCIM_TOKEN_SCOPE,
  type ScimClient,
  type ScimClientInput,
} from './oidc/scim-client.js';
export {
  isJwtShaped,
  MAX_SCIM_ACCESS_TOKEN_LENGTH,
  SCIM_KEY_CACHE_MS,
  scimAccessTokenVerifier,
  type ScimAccessTokenAuthentication,
  type ScimAccessTokenRefusal,
  type ScimAccessTokenVerifier,
} from './oidc/scim-access-token.js';

// the apps' public URL layouts: routes are mounted on them, and addresses built from them
export {
  ADMIN_API_ROOT,
  ADMIN_PATHS,
  fillPath,
  OIDC_PATHS,
  SCIM_PATHS,
  SSO_PATHS,
  tenantDiscoveryUrl,
  tenantIssuerUrl,
  tenantScimUrl,
  tenantTokenUrl,
} from './urls/url-layouts.js';

// apps signed in over OpenID Connect: which Roster session each rides on, and its end
export {
  BACKCHANNEL_LOGOUT_DELIVERY,
  endProviderSession,
  providerSessionIsLive,
  recordAppSignIn,
  sessionReference,
  type AppSignIn,
  type BackchannelLogoutPayload,
  type SessionEndReason,
} from './oidc/app-sessions.js';
export {
  consumeProviderRecord,
  deleteProviderGrantRecords,
  deleteProviderRecord,
  findProviderRecord,
  findProviderRecordByUid,
  saveProviderRecord,
  type ProviderPayload,
  type ProviderRecord,
} from './oidc/provider-state.js';
export {
  backchannelLogoutRenderer,
  LOGOUT_TOKEN_LIFETIME_SECONDS,
} from './oidc/backchannel-logout.js';

// events: the outbox as apps outside Roster see it (README, "Events and webhooks")
export {
  eventId,
  eventJson,
  eventOfChange,
  eventTypeOfChange,
  EVENT_TYPES,
  EVENT_VERSION,
  MAX_EVENTS_PER_READ,
  parseEventId,
  parseEventTypes,
  readEvents,
  type EventBatch,
  type EventType,
  type RosterEvent,
} from './events/event.js';
export {
  MAX_MEMBERS_PER_EVENT,
  type ChangedFields,
  type EventGroup,
  type EventUser,
} from './events/payloads.js';
export { latestChangeSeq } from './changes/outbox.js';
export { decodeChangeCursor, encodeChangeCursor } from './directory/change-feed.js';
export {
  DEFAULT_EVENTS_PAGE_SIZE,
  EVENTS_AFTER_NOW,
  MAX_EVENTS_PAGE_SIZE,
  readEventsPage,
  type EventsPage,
  type EventsPageRequest,
} from './events/events-page.js';
// events tokens: a read-only credential per tenant for the events API
export {
  createEventsToken,
  EVENTS_TOKEN_PREFIX,
  identifyEventsToken,
  listEventsTokens,
  revokeEventsToken,
  type EventsToken,
  type IssuedEventsToken,
} from './events/events-token.js';

// SCIM security events (RFC 9967): events as signed Security Event Tokens
export {
  ISSUED_SCIM_EVENT_URIS,
  renderScimSecurityEvent,
  SCIM_EVENT_URIS,
  scimEventTypes,
  scimEventUrisOf,
  scimSecurityEventRenderer,
  SECEVENT_CONTENT_TYPE,
  SECEVENT_JWT_TYPE,
  type ScimEventUri,
  type ScimSecurityEventBody,
} from './events/scim-events.js';

// webhooks: a tenant's endpoints, signed per Standard Webhooks, delivered in order
/** The LISTEN/NOTIFY channel a commit with changes notifies (payload: the tenant id). */
export { CHANGES_CHANNEL } from './changes/outbox.js';
export {
  checkWebhookUrl,
  MAX_WEBHOOK_EVENT_PATTERN_LENGTH,
  MAX_WEBHOOK_EVENT_PATTERNS,
  MAX_WEBHOOK_URL_LENGTH,
  MAX_WEBHOOKS_PER_TENANT,
  WEBHOOK_FORMATS,
  WEBHOOK_SECRET_BYTES,
  type IssuedWebhook,
  type Webhook,
  type WebhookAttempt,
  type WebhookChangeOptions,
  type WebhookFormat,
  type WebhookInput,
} from './webhooks/webhook.js';
export {
  createWebhook,
  DEFAULT_WEBHOOK_ATTEMPTS_LISTED,
  disableWebhook,
  enableWebhook,
  getWebhook,
  listWebhookAttempts,
  listWebhooks,
  MAX_WEBHOOK_ATTEMPTS_LISTED,
  MAX_WEBHOOK_SECRET_OVERLAP_MS,
  parseWebhookReplayStart,
  pruneWebhookAttempts,
  removeWebhook,
  replayWebhook,
  rotateWebhookSecret,
  updateWebhook,
  WEBHOOK_ATTEMPT_RETENTION_MS,
  WEBHOOK_SECRET_OVERLAP_MS,
  type WebhookReplayStart,
} from './webhooks/webhook.repository.js';
export { signWebhook, webhookHeaders } from './webhooks/signing.js';

// retention of events: what the maintenance schedule prunes, and how far it went
export {
  DEFAULT_EVENTS_RETENTION_DAYS,
  EVENTS_PRUNE_BATCH_SIZE,
  EVENTS_PRUNE_MAX_BATCHES,
  eventsPrunedSeq,
  MAX_EVENTS_RETENTION_DAYS,
  pruneEvents,
  type EventsPruneSummary,
} from './events/retention.js';
export {
  deliverDueWebhooks,
  sendWebhookPing,
  standardWebhookBody,
  startWebhookWorker,
  WEBHOOK_BATCH_SIZE,
  WEBHOOK_DISABLE_AFTER_MS,
  WEBHOOK_EVENTS_PER_CLAIM,
  WEBHOOK_FIRST_RETRY_MS,
  WEBHOOK_LEASE_MARGIN_MS,
  WEBHOOK_MAX_RESPONSE_BYTES,
  WEBHOOK_MAX_RETRY_DELAY_MS,
  WEBHOOK_MIN_RETRY_DELAY_MS,
  WEBHOOK_PING_TYPE,
  WEBHOOK_POLL_INTERVAL_MS,
  WEBHOOK_TIMEOUT_MS,
  WEBHOOK_UNRENDERABLE_RETRY_MS,
  type WebhookBodyRenderer,
  type WebhookWorker,
  type WebhookWorkerOptions,
} from './webhooks/webhook-delivery.js';
