// oidc-provider's storage (its Adapter interface), one tenant per adapter: every model through
// core's oidc/provider-state.ts, apps (the Client model) from the tenant's registered apps.
import { errors, type Adapter, type AdapterPayload } from './oidc-provider-lib.js';
import {
  consumeProviderRecord,
  deleteProviderGrantRecords,
  deleteProviderRecord,
  findOidcApp,
  findProviderRecord,
  findProviderRecordByUid,
  saveProviderRecord,
  type Db,
  type OidcApp,
} from '@roster/core';
import { scimClientMetadataOf } from './scim-clients.js';

/** The models whose rows belong to a grant: revoking the grant deletes them (RFC 7009 §2.1). */
const GRANT_BOUND = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * A registered app as oidc-provider's client metadata. The secret is never here: it is stored
 * hashed and checked by `verifyOidcAppSecret` (see `providers.ts`), so the metadata carries a
 * placeholder the library only checks for presence.
 */
export function clientMetadataOf(app: OidcApp): AdapterPayload {
  return {
    client_id: app.clientId,
    client_name: app.name,
    ...(app.isPublic
      ? { token_endpoint_auth_method: 'none' }
      : {
          client_secret: HASHED_SECRET_PLACEHOLDER,
          token_endpoint_auth_method: 'client_secret_basic',
        }),
    redirect_uris: [...app.redirectUris],
    post_logout_redirect_uris: [...app.postLogoutRedirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...(app.backchannelLogoutUri
      ? {
          backchannel_logout_uri: app.backchannelLogoutUri,
          backchannel_logout_session_required: true,
        }
      : {}),
  };
}

/** Stands in for the client secret in client metadata; never compared (see `providers.ts`). */
export const HASHED_SECRET_PLACEHOLDER = 'stored-hashed';

/**
 * How long a provider trusts an app's registration: a change or removal (`roster app update`,
 * `remove`) reaches the authorization endpoint within this time. Secrets are always checked
 * against the database (`verifyOidcAppSecret`), so a removed confidential app redeems no code.
 */
export const APP_CACHE_MS = 10_000;
/** Apps remembered per tenant at most (only found ones: unknown ids are never kept). */
const MAX_CACHED_APPS = 1000;

/**
 * One adapter per (tenant, model), as oidc-provider asks for them. SCIM clients are clients
 * only when `withScimClients` (the client credentials grant) is on.
 */
export const adapterFactory =
  (db: Db, tenantId: string, options: { scimClients?: boolean } = {}) =>
  (model: string): Adapter =>
    model === 'Client'
      ? new AppAdapter(db, tenantId, options.scimClients ?? false)
      : new PayloadAdapter(db, tenantId, model);

/**
 * Apps come from `roster app add`, SCIM clients from `roster scim-client add`; dynamic
 * registration is off, so only `find` is called.
 */
class AppAdapter implements Adapter {
  private readonly db: Db;
  private readonly tenantId: string;
  private readonly scimClients: boolean;
  constructor(db: Db, tenantId: string, scimClients: boolean) {
    this.db = db;
    this.tenantId = tenantId;
    this.scimClients = scimClients;
  }
  /** Found apps, for `APP_CACHE_MS`: the provider looks its client up several times a flow. */
  private readonly found = new Map<string, { metadata: AdapterPayload; at: number }>();

  async find(clientId: string): Promise<AdapterPayload | undefined> {
    const cached = this.found.get(clientId);
    if (cached && Date.now() - cached.at < APP_CACHE_MS) return cached.metadata;
    const metadata = await this.load(clientId);
    if (metadata) {
      if (this.found.size >= MAX_CACHED_APPS) this.found.clear();
      this.found.set(clientId, { metadata, at: Date.now() });
    }
    return metadata;
  }

  private async load(clientId: string): Promise<AdapterPayload | undefined> {
    const app = await findOidcApp(this.db, this.tenantId, clientId);
    if (app?.kind === 'app') return clientMetadataOf(app);
    if (app?.kind === 'scim' && this.scimClients)
      return scimClientMetadataOf(app, HASHED_SECRET_PLACEHOLDER);
    return undefined;
  }
  upsert(): Promise<void> {
    return Promise.reject(new Error('apps are registered with `roster app add`'));
  }
  findByUid(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  destroy(): Promise<void> {
    return Promise.resolve();
  }
  consume(): Promise<void> {
    return Promise.resolve();
  }
  revokeByGrantId(): Promise<void> {
    return Promise.resolve();
  }
}

class PayloadAdapter implements Adapter {
  private readonly db: Db;
  private readonly tenantId: string;
  private readonly model: string;
  constructor(db: Db, tenantId: string, model: string) {
    this.db = db;
    this.tenantId = tenantId;
    this.model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const grantId =
      this.model === 'Grant' ? id : GRANT_BOUND.has(this.model) ? (payload.grantId ?? null) : null;
    await saveProviderRecord(this.db, this.tenantId, {
      model: this.model,
      id,
      payload: payload,
      grantId,
      uid: this.model === 'Session' ? (payload.uid ?? null) : null,
      accountId: payload.accountId ?? null,
      expiresAt: expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : undefined,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return findProviderRecord(this.db, this.tenantId, this.model, id);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return findProviderRecordByUid(this.db, this.tenantId, this.model, uid);
  }

  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined); // the device flow is off
  }

  async destroy(id: string): Promise<void> {
    await deleteProviderRecord(this.db, this.tenantId, this.model, id);
  }

  /**
   * oidc-provider checks `consumed` on what it read and then consumes: two concurrent
   * redemptions can both pass its check. Core's consume lets one win; the other fails here.
   */
  async consume(id: string): Promise<void> {
    const outcome = await consumeProviderRecord(this.db, this.tenantId, this.model, id);
    if (outcome === 'already_consumed') throw new errors.InvalidGrant('grant request is invalid');
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await deleteProviderGrantRecords(this.db, this.tenantId, this.model, grantId);
  }
}
