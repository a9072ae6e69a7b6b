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
  type ProviderPayload,
} from '@roster/core';

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
      : { client_secret: HASHED_SECRET_PLACEHOLDER, token_endpoint_auth_method: 'client_secret_basic' }),
    redirect_uris: [...app.redirectUris],
    post_logout_redirect_uris: [...app.postLogoutRedirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...(app.backchannelLogoutUri
      ? { backchannel_logout_uri: app.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  };
}

/** Stands in for the client secret in client metadata; never compared (see `providers.ts`). */
export const HASHED_SECRET_PLACEHOLDER = 'stored-hashed';

/** One adapter per (tenant, model), as oidc-provider asks for them. */
export const adapterFactory =
  (db: Db, tenantId: string) =>
  (model: string): Adapter =>
    model === 'Client' ? new AppAdapter(db, tenantId) : new PayloadAdapter(db, tenantId, model);

/** Apps come from `roster app add`; dynamic registration is off, so only `find` is called. */
class AppAdapter implements Adapter {
  private readonly db: Db;
  private readonly tenantId: string;
  constructor(db: Db, tenantId: string) {
    this.db = db;
    this.tenantId = tenantId;
  }
  async find(clientId: string): Promise<AdapterPayload | undefined> {
    const app = await findOidcApp(this.db, this.tenantId, clientId);
    return app && app.kind === 'app' ? clientMetadataOf(app) : undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('apps are registered with `roster app add`');
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async destroy(): Promise<void> {}
  async consume(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
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
      payload: payload as ProviderPayload,
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

  async findByUserCode(): Promise<undefined> {
    return undefined; // the device flow is off
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
