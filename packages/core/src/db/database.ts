import type { ColumnType, Generated, GeneratedAlways, JSONColumnType } from 'kysely';

/** A timestamptz: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type JsonObject = Record<string, unknown>;

export interface TenantTable {
  id: Generated<string>;
  slug: string;
  grace_period_days: Generated<number>;
  cleanup_after_days: number | null;
  allowed_origins: Generated<string[]>;
  outbox_seq: Generated<number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface ScimTokenTable {
  id: Generated<string>;
  tenant_id: string;
  secret_hash: Buffer;
  description: string | null;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export const LIFECYCLE_STATES = ['active', 'inactive', 'deprovisioned'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];
export const USER_SOURCES = ['scim', 'jit'] as const;
export type UserSource = (typeof USER_SOURCES)[number];

export interface UserTable {
  id: Generated<string>;
  tenant_id: string;
  user_name: string;
  user_name_key: string;
  external_id: string | null;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  lifecycle_state: Generated<LifecycleState>;
  active: GeneratedAlways<boolean>;
  inactive_reason: string | null;
  source: UserSource;
  managed_by: UserSource;
  adopted_at: Timestamp | null;
  deprovisioned_at: Timestamp | null;
  purge_after: Timestamp | null;
  last_sign_in_at: Timestamp | null;
  version: Generated<number>;
  scim_resource: JSONColumnType<JsonObject, JsonObject | undefined, JsonObject>;
  password_hash: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface UserEmailTable {
  user_id: string;
  position: number;
  tenant_id: string;
  value: string;
  value_key: string;
  type: string | null;
  is_primary: Generated<boolean>;
}

export interface GroupTable {
  id: Generated<string>;
  tenant_id: string;
  display_name: string;
  external_id: string | null;
  managed_by: UserSource;
  version: Generated<number>;
  scim_resource: JSONColumnType<JsonObject, JsonObject | undefined, JsonObject>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface GroupMemberTable {
  group_id: string;
  tenant_id: string;
  member_user_id: string | null;
  member_group_id: string | null;
  member_id: GeneratedAlways<string>;
  created_at: DefaultedTimestamp;
}

export interface SamlIdpTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  entity_id: string;
  sso_url: string;
  slo_url: string | null;
  signing_certificates: string[];
  want_response_signed: Generated<boolean>;
  jit_policy: Generated<'create' | 'deny'>;
  match_by: Generated<'username' | 'email' | 'both'>;
  attribute_map: JSONColumnType<
    Record<string, string>,
    Record<string, string> | undefined,
    Record<string, string>
  >;
  groups_attribute: string | null;
  allow_idp_initiated: Generated<boolean>;
  metadata_xml: string | null;
  metadata_url: string | null;
  version: Generated<number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface SamlLinkTable {
  idp_id: string;
  name_id: string;
  tenant_id: string;
  name_id_format: string | null;
  user_id: string;
  created_at: DefaultedTimestamp;
  last_used_at: Timestamp | null;
}

export interface SessionTable {
  id_hash: Buffer;
  tenant_id: string;
  user_id: string;
  idp_id: string | null;
  name_id: string | null;
  name_id_format: string | null;
  session_index: string | null;
  created_at: DefaultedTimestamp;
  last_seen_at: DefaultedTimestamp;
  idle_expires_at: Timestamp;
  absolute_expires_at: Timestamp;
}

export interface SamlRequestIdTable {
  id: string;
  tenant_id: string;
  idp_id: string;
  browser_binding: Buffer | null;
  value: string;
  return_to: string | null;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
}

export interface SamlAssertionIdTable {
  idp_id: string;
  assertion_id: string;
  expires_at: Timestamp;
}

export const ACTOR_TYPES = ['scim_token', 'idp', 'operator', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface AuditEventTable {
  id: GeneratedAlways<number>;
  tenant_id: string | null;
  occurred_at: DefaultedTimestamp;
  actor_type: ActorType;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  changes: JSONColumnType<JsonObject, JsonObject | null | undefined, JsonObject | null> | null;
}

export interface ChangeOutboxTable {
  id: GeneratedAlways<number>;
  tenant_id: string;
  seq: number;
  occurred_at: DefaultedTimestamp;
  kind: string;
  entity_type: string;
  entity_id: string;
  payload: JSONColumnType<JsonObject, JsonObject | undefined, JsonObject>;
}

/** Exact per-tenant counts of listable users and groups, kept by triggers (sum the slots). */
export interface DirectoryCountTable {
  tenant_id: string;
  slot: number;
  users: number;
  groups: number;
}

export interface ScimRequestLogTable {
  id: GeneratedAlways<number>;
  tenant_id: string;
  occurred_at: DefaultedTimestamp;
  request_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  token_id: string | null;
  user_agent: string | null;
  /** Any JSON (redacted, capped): written as text cast to jsonb, read parsed; never updated. */
  request_body: ColumnType<unknown, unknown, never>;
  response_body: ColumnType<unknown, unknown, never>;
}

export const OIDC_APP_KINDS = ['app', 'scim'] as const;
export type OidcAppKind = (typeof OIDC_APP_KINDS)[number];

/** A list of URIs in a jsonb column: written as its JSON text (node-pg would send an array). */
type UriListColumn = JSONColumnType<string[], string | undefined, string>;

export interface OidcAppTable {
  id: Generated<string>;
  tenant_id: string;
  client_id: string;
  kind: OidcAppKind;
  name: string;
  redirect_uris: UriListColumn;
  post_logout_redirect_uris: UriListColumn;
  is_public: boolean;
  backchannel_logout_uri: string | null;
  secret_hash: Buffer | null;
  secret_rotated_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  /** Lifetime of a SCIM client's access tokens (kind 'scim' only; null for an app). */
  token_lifetime_minutes: Generated<number | null>;
}

export const SIGNING_KEY_STATUSES = ['next', 'current', 'retired'] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

export interface OidcSigningKeyTable {
  tenant_id: string;
  kid: string;
  status: SigningKeyStatus;
  /** The private JWK (RFC 7517 §4), written as its JSON text. */
  private_jwk: JSONColumnType<JsonObject, string, string>;
  created_at: DefaultedTimestamp;
  promoted_at: Timestamp | null;
  retired_at: Timestamp | null;
}

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface OutboundDeliveryTable {
  id: GeneratedAlways<number>;
  tenant_id: string;
  kind: string;
  target_url: string;
  /** Any JSON: written as text cast to jsonb, read parsed; never updated. */
  payload: ColumnType<unknown, unknown, never>;
  state: Generated<DeliveryState>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_attempt_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  created_at: DefaultedTimestamp;
  delivered_at: Timestamp | null;
}

export interface OutboundDeliveryAttemptTable {
  delivery_id: number;
  attempt: number;
  attempted_at: Timestamp;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export const WEBHOOK_FORMATS = ['standard', 'scim-events'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
export const WEBHOOK_STATES = ['enabled', 'disabled'] as const;
export type WebhookState = (typeof WEBHOOK_STATES)[number];

export interface WebhookEndpointTable {
  id: Generated<string>;
  tenant_id: string;
  url: string;
  event_types: Generated<string[]>;
  format: Generated<WebhookFormat>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Timestamp | null;
  state: Generated<WebhookState>;
  disabled_reason: string | null;
  delivered_seq: number;
  failing_since: Timestamp | null;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_until: Timestamp | null;
  lease_token: string | null;
  last_delivered_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface WebhookAttemptTable {
  id: GeneratedAlways<number>;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  attempted_at: Timestamp;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  response_excerpt: string | null;
}

/** The whole schema, as kysely sees it (snake_case; repositories map rows to domain types). */
export interface Database {
  tenants: TenantTable;
  scim_tokens: ScimTokenTable;
  /** Read-only events API credentials: the columns of scim_tokens. */
  events_tokens: ScimTokenTable;
  users: UserTable;
  user_emails: UserEmailTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  saml_idps: SamlIdpTable;
  saml_links: SamlLinkTable;
  sessions: SessionTable;
  saml_request_ids: SamlRequestIdTable;
  saml_assertion_ids: SamlAssertionIdTable;
  audit_events: AuditEventTable;
  change_outbox: ChangeOutboxTable;
  directory_counts: DirectoryCountTable;
  scim_request_log: ScimRequestLogTable;
  outbound_deliveries: OutboundDeliveryTable;
  outbound_delivery_attempts: OutboundDeliveryAttemptTable;
  oidc_apps: OidcAppTable;
  oidc_signing_keys: OidcSigningKeyTable;
  oidc_payloads: OidcPayloadTable;
  oidc_app_sessions: OidcAppSessionTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_attempts: WebhookAttemptTable;
}

/** oidc-provider's models, one row each (see the adapter in apps/sso). */
export interface OidcPayloadTable {
  tenant_id: string;
  model: string;
  id: string;
  payload: JSONColumnType<JsonObject, JsonObject, JsonObject>;
  grant_id: string | null;
  uid: string | null;
  account_id: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

/** An app signed in through a Roster session (for back-channel logout). */
export interface OidcAppSessionTable {
  tenant_id: string;
  provider_session_uid: string;
  client_id: string;
  session_id_hash: Buffer;
  account_id: string;
  sid: string;
  grant_id: string | null;
  created_at: DefaultedTimestamp;
}
