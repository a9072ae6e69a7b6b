// One OpenID Provider (panva's oidc-provider, docs/adr/0010) per tenant, issuer
// `<SSO_BASE_URL>/oidc/<tenant>`, built on first use and rebuilt when the tenant's signing keys
// change. The provider speaks the protocol; who may sign in is decided by the tenant's SAML
// sign-in in core (the interaction step, `oidc.route.ts`), never here.
import { hkdfSync, randomUUID } from 'node:crypto';
import {
  interactionPolicy,
  Provider,
  type Configuration,
  type KoaContextWithOIDC,
  type ProviderInstance,
} from './oidc-provider-lib.js';
import {
  endProviderSession,
  findSignedInUser,
  findTenantBySlug,
  fillPath,
  loadSigningKeys,
  OIDC_PATHS,
  providerSessionIsLive,
  recordAppSignIn,
  tenantIssuerUrl,
  verifyOidcAppSecret,
  type Clock,
  type Db,
  type Logger,
  type SigningKeySet,
  type Tenant,
} from '@roster/core';
import { adapterFactory } from './provider-storage.js';
import { withScimClients } from './scim-clients.js';
import { providerErrorPage, signOutConfirmPage, signedOutOfAppPage } from './oidc-pages.js';

/** Lifetimes of what the provider issues, in seconds (README "Sign people in to your app"). */
export const OIDC_TTL = {
  /** An authorization code: redeemed at once by the app's back end (RFC 6749 §4.1.2). */
  AuthorizationCode: 60,
  AccessToken: 600,
  IdToken: 600,
  /** The time a person has to finish signing in at their IdP. */
  Interaction: 600,
} as const;

/** The scopes apps may ask for, and the claims each brings (OpenID Connect Core §5.4). */
const CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  groups: ['groups'],
};

export interface TenantProvidersOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Public base URL of the SSO app (SSO_BASE_URL). */
  readonly baseUrl: string;
  /** The longest a Roster session lives: the provider's sessions and grants live no longer. */
  readonly sessionLifetimeMs: number;
  /** How long a built provider trusts its signing keys before it looks for a rotation. */
  readonly keyRecheckIntervalMs: number;
  /** Public base URL of the SCIM app (SCIM_BASE_URL): the audience of SCIM clients' tokens. */
  readonly scimBaseUrl?: string | undefined;
}

interface Built {
  readonly provider: ProviderInstance;
  readonly keysVersion: string;
  checkedAt: number;
}

/** The tenants' providers, each built once per key set. */
export class TenantProviders {
  readonly #built = new Map<string, Built>();
  readonly #building = new Map<string, Promise<Built>>();

  private readonly options: TenantProvidersOptions;

  constructor(options: TenantProvidersOptions) {
    this.options = options;
  }

  readonly #tenants = new Map<string, { tenant: Tenant; at: number }>();

  /**
   * The tenant of a slug, remembered for `keyRecheckIntervalMs` (every request of a sign-in names
   * it; tenants are never deleted, and the provider uses only their id and slug).
   */
  async tenantOf(slug: string): Promise<Tenant | undefined> {
    const cached = this.#tenants.get(slug);
    if (cached && Date.now() - cached.at < this.options.keyRecheckIntervalMs) return cached.tenant;
    const tenant = await findTenantBySlug(this.options.db, slug);
    if (tenant) {
      if (this.#tenants.size >= MAX_CACHED_TENANTS) this.#tenants.clear();
      this.#tenants.set(slug, { tenant, at: Date.now() });
    }
    return tenant;
  }

  /** The tenant's provider, with signing keys at most `keyRecheckIntervalMs` old. */
  async forTenant(tenant: Tenant): Promise<ProviderInstance> {
    const now = Date.now();
    const built = this.#built.get(tenant.id);
    if (built && now - built.checkedAt < this.options.keyRecheckIntervalMs) return built.provider;
    const pending = this.#building.get(tenant.id);
    if (pending) return (await pending).provider;
    const next = this.#refresh(tenant, built, now).finally(() => this.#building.delete(tenant.id));
    this.#building.set(tenant.id, next);
    return (await next).provider;
  }

  async #refresh(tenant: Tenant, built: Built | undefined, now: number): Promise<Built> {
    const keys = await loadSigningKeys(this.options.db, tenant.id);
    if (built && built.keysVersion === keys.version) {
      built.checkedAt = now;
      return built;
    }
    const fresh = {
      provider: this.#build(tenant, keys),
      keysVersion: keys.version,
      checkedAt: now,
    };
    this.#built.set(tenant.id, fresh);
    return fresh;
  }

  #build(tenant: Tenant, keys: SigningKeySet): ProviderInstance {
    const { db, clock, logger, baseUrl, sessionLifetimeMs, scimBaseUrl } = this.options;
    const issuer = tenantIssuerUrl(baseUrl, tenant.slug);
    const issuerPath = new URL(issuer).pathname;
    const sessionTtl = Math.floor(sessionLifetimeMs / 1000);

    const policy = interactionPolicy.base();
    // The provider's own session never outlives the Roster session it was opened by, nor the
    // person's being active: when either has ended, the app's next authorize signs in again
    // (where the rules refuse a person who is no longer active).
    policy.get('login')?.checks.add(
      new interactionPolicy.Check(
        'roster_session_ended',
        'the sign-in behind this session has ended',
        'login_required',
        async (ctx) => {
          const { session, result } = ctx.oidc;
          if (result?.login || !session?.accountId) return false;
          return !(await providerSessionIsLive(
            db,
            tenant.id,
            session.uid,
            session.accountId,
            clock,
          ));
        },
      ),
    );

    const configuration: Configuration = {
      adapter: adapterFactory(db, tenant.id, { scimClients: scimBaseUrl !== undefined }),
      jwks: { keys: keys.keys },
      cookies: {
        keys: cookieKeysOf(tenant.id, keys),
        // One host serves every tenant: the session cookie stays under its tenant's issuer path
        // (the short-lived ones are scoped to one interaction's paths by the library).
        long: { path: issuerPath, httpOnly: true, sameSite: 'lax' },
        short: { httpOnly: true, sameSite: 'lax' },
      },
      pkce: { required: () => true },
      scopes: Object.keys(CLAIMS),
      claims: CLAIMS,
      conformIdTokenClaims: false,
      responseTypes: ['code'],
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      // Secrets are stored hashed, so nothing may key an HMAC on them (no HS*, no
      // client_secret_jwt); ID tokens are signed with the tenant's RSA keys.
      enabledJWA: {
        idTokenSigningAlgValues: ['RS256'],
        userinfoSigningAlgValues: ['RS256'],
        introspectionSigningAlgValues: ['RS256'],
        authorizationSigningAlgValues: ['RS256'],
        clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      },
      allowOmittingSingleRegisteredRedirectUri: false,
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        introspection: { enabled: true },
        userinfo: { enabled: true },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => signOutConfirmPage(ctx, form),
          postLogoutSuccessSource: (ctx) => signedOutOfAppPage(ctx),
        },
      },
      interactions: {
        policy,
        url: (_ctx, interaction) =>
          fillPath(OIDC_PATHS.interaction, { tenant: tenant.slug, uid: interaction.uid }),
      },
      ttl: {
        ...OIDC_TTL,
        Session: sessionTtl,
        Grant: sessionTtl,
      },
      // Apps registered here are the organisation's own: no consent screen, the grant is what
      // the app asked for among the scopes above.
      loadExistingGrant: async (ctx) => {
        const { oidc } = ctx;
        const { client, session } = oidc;
        // Called with an account in a session only (oidc-provider's loadGrant).
        if (!client || !session?.accountId) return undefined;
        const clientId = client.clientId;
        const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(clientId);
        const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
        const asked = [...(oidc.requestParamScopes ?? new Set(['openid']))].join(' ');
        const grant =
          existing ?? new oidc.provider.Grant({ clientId, accountId: session.accountId });
        grant.addOIDCScope(asked);
        await grant.save();
        return grant;
      },
      findAccount: async (_ctx, sub) => {
        if (!USER_ID.test(sub)) return undefined;
        const user = await findSignedInUser(db, tenant.id, sub);
        if (!user) return undefined;
        return {
          accountId: user.id,
          claims: () => ({
            sub: user.id,
            email: user.emails[0],
            email_verified: user.emails.length > 0 ? true : undefined,
            name:
              user.displayName ??
              ([user.givenName, user.familyName].filter(Boolean).join(' ') || undefined),
            given_name: user.givenName ?? undefined,
            family_name: user.familyName ?? undefined,
            preferred_username: user.userName,
            groups: [...user.groups],
          }),
        };
      },
      renderError: (ctx, out, error) => providerErrorPage(ctx, out, error),
      // The provider never calls out: apps are registered without jwks_uri, sector identifiers
      // or metadata documents, and logout notices go through Roster's delivery queue under
      // ROSTER_OUTBOUND_ALLOW_HOSTS. Should a future option make it try, it is refused here.
      fetch: () => Promise.reject(new Error('the OpenID Provider makes no outbound calls')),
    };

    const provider = new Provider(
      issuer,
      withScimClients(configuration, { db, tenant, scimBaseUrl }),
    );
    // The public base URL, not a client's headers, says whether the issuer is https (the
    // mount in oidc.route.ts sets X-Forwarded-Proto from it).
    provider.proxy = true;

    // Hashed secrets: the presented secret is checked against its stored hash, in constant time.
    provider.Client.prototype.compareClientSecret = function compareClientSecret(
      this: { clientId: string },
      presented: string,
    ) {
      return verifyOidcAppSecret(db, tenant.id, this.clientId, presented);
    };
    // Logout notices go through Roster's delivery queue (retried, at least once) when a Roster
    // session ends, for every reason; the library's own single attempt is not used.
    provider.Client.prototype.backchannelLogout = async function backchannelLogout() {};

    // A full sign-out at the provider ends the Roster session behind it, and so every app's
    // sign-in through it (each hears of it through the delivery queue).
    provider.on('end_session.success', (ctx) => {
      if (ctx.oidc.params?.logout && ctx.oidc.session?.uid)
        (ctx.state as RosterState).signedOutProviderSession = ctx.oidc.session.uid;
    });

    provider.use(async (koa, next) => {
      await next();
      const ctx = koa as KoaContextWithOIDC;
      const signedOut = (ctx.state as RosterState).signedOutProviderSession;
      if (signedOut) {
        await endProviderSession(db, tenant.id, signedOut);
        return;
      }
      // An app signed in: remember through which Roster session, so its end reaches the app.
      const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
      const code = oidc?.entities.AuthorizationCode;
      const session = oidc?.session;
      const client = oidc?.client;
      if (!oidc || !code?.accountId || !session?.uid || !client) return;
      const clientId = client.clientId;
      const recorded = await recordAppSignIn(db, tenant.id, {
        providerSessionUid: session.uid,
        clientId,
        accountId: code.accountId,
        sid: session.sidFor(clientId) ?? code.sid ?? randomUUID(),
        grantId: code.grantId,
        sessionReference: rosterSessionOf(oidc.result),
      });
      if (recorded) return;
      // No Roster session stands behind this provider session: take back what was issued.
      if (code.grantId) await (await oidc.provider.Grant.find(code.grantId))?.destroy();
      await code.destroy();
      logger.error({ tenant: tenant.slug, clientId }, 'oidc.authorization.unbound_session');
      ctx.remove('location');
      ctx.status = 403;
      providerErrorPage(ctx, { error: 'login_required' }, undefined);
    });

    provider.on('server_error', (ctx, error) => {
      logger.error(
        { err: error, tenant: tenant.slug, route: ctx.oidc?.route },
        'oidc.server_error',
      );
    });
    return provider;
  }
}

/** What Roster keeps on a provider request between the library's event and the response. */
interface RosterState {
  signedOutProviderSession?: string;
}

/** Tenants remembered at most (only existing ones: an unknown slug is never kept). */
const MAX_CACHED_TENANTS = 10_000;

/** Roster's user ids are UUIDs; anything else is no account (and never reaches a query). */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Roster session a finished interaction carries (see `interaction-handoff.ts`). */
function rosterSessionOf(result: unknown): string | undefined {
  const roster = (result as { roster?: { session?: unknown } } | undefined)?.roster;
  return typeof roster?.session === 'string' ? roster.session : undefined;
}

/**
 * Cookie signing keys, derived from the tenant's signing keys (current first, so it signs; the
 * others still verify through a rotation): nothing else to store or rotate.
 */
function cookieKeysOf(tenantId: string, keys: SigningKeySet): string[] {
  return keys.keys.map((jwk) =>
    Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(String(jwk.d), 'base64url'),
        tenantId,
        'roster oidc cookies',
        32,
      ),
    ).toString('base64url'),
  );
}
