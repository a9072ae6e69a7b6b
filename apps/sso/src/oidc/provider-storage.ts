// oidc-provider's storage (its Adapter interface) on Roster's database, one tenant per adapter:
// every model in oidc_payloads, apps (the Client model) from the tenant's registered apps.
import { sql } from 'kysely';
import { errors, type Adapter, type AdapterPayload } from './oidc-provider-lib.js';
import { findOidcApp, type Db, type OidcApp } from '@roster/core';
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
  async find(clientId: string): Promise<AdapterPayload | undefined> {
    const app = await findOidcApp(this.db, this.tenantId, clientId);
    if (app?.kind === 'app') return clientMetadataOf(app);
    if (app?.kind === 'scim' && this.scimClients)
      return scimClientMetadataOf(app, HASHED_SECRET_PLACEHOLDER);
    return undefined;
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

  private rows() {
    return this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at'])
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const grantId =
      this.model === 'Grant' ? id : GRANT_BOUND.has(this.model) ? (payload.grantId ?? null) : null;
    const row = {
      tenant_id: this.tenantId,
      model: this.model,
      id,
      payload: payload as Record<string, unknown>,
      grant_id: grantId,
      uid: this.model === 'Session' ? (payload.uid ?? null) : null,
      account_id: payload.accountId ?? null,
      expires_at: expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await this.db
      .insertInto('oidc_payloads')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'model', 'id']).doUpdateSet({
          payload: row.payload,
          grant_id: row.grant_id,
          uid: row.uid,
          account_id: row.account_id,
          expires_at: row.expires_at,
        }),
      )
      .execute();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return payloadOf(await this.rows().where('id', '=', id).executeTakeFirst());
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return payloadOf(await this.rows().where('uid', '=', uid).executeTakeFirst());
  }

  async findByUserCode(): Promise<undefined> {
    return undefined; // the device flow is off
  }

  async destroy(id: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Marks a code used, atomically. oidc-provider checks `consumed` on what it read and then
   * consumes; two concurrent redemptions can both pass that check. Here only one UPDATE wins;
   * the other finds the row consumed, revokes the whole grant (what the first redemption issued
   * stops working, RFC 6749 §4.1.2) and fails.
   */
  async consume(id: string): Promise<void> {
    const won = await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: sql<Date>`now()` })
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .returning('grant_id')
      .executeTakeFirst();
    if (won) return;
    const lost = await this.db
      .selectFrom('oidc_payloads')
      .select('grant_id')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where('id', '=', id)
      .executeTakeFirst();
    if (lost?.grant_id) {
      await this.db
        .deleteFrom('oidc_payloads')
        .where('tenant_id', '=', this.tenantId)
        .where('grant_id', '=', lost.grant_id)
        .execute();
    }
    throw new errors.InvalidGrant('grant request is invalid');
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where('grant_id', '=', grantId)
      .execute();
  }
}

function payloadOf(
  row: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined,
): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = row.payload as AdapterPayload;
  return row.consumed_at
    ? { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
    : payload;
}
