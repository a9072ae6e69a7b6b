// What the example's tests run against: Roster's real SSO app on a loopback port (one tenant, one
// SAML IdP made at test time, the example registered as a confidential app), Roster's delivery
// worker (it posts the logout tokens), and the example app on its own port, all over real HTTP
// and a real database.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import {
  addOidcApp,
  BACKCHANNEL_LOGOUT_DELIVERY,
  backchannelLogoutRenderer,
  createLogger,
  createSamlIdp,
  createTenant,
  loadSigningKeys,
  outboundPolicyFrom,
  startDeliveryWorker,
  systemClock,
  tenantIssuerUrl,
  type OidcApp,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle } from '@roster/http';
import { createSsoApp } from '@roster/sso';
import { TestIdp } from '@roster/sso/testing';
import {
  BACKCHANNEL_LOGOUT_EVENT,
  createExampleApp,
  discoverRoster,
  PATHS,
} from '../../src/index.js';

export interface Stack {
  readonly database: TestDatabase;
  readonly tenant: Tenant;
  readonly idp: TestIdp;
  readonly app: OidcApp;
  readonly issuer: string;
  /** Roster's SSO app: `http://localhost:<port>`. */
  readonly rosterUrl: string;
  /** The example app: `http://<appHost>:<port>`. */
  readonly appUrl: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** How often the test's delivery worker looks for logout tokens to send. */
const DELIVERY_INTERVAL_MS = 20;

/**
 * Starts Roster and the example app. `appHost` is the example's host name in the browser (which
 * maps it to 127.0.0.1); Roster reaches the app's back-channel endpoint at 127.0.0.1, the one
 * loopback address it is allowed to call. `idp` gives the IdP's URLs when a test serves it.
 */
export async function startStack(
  options: { appHost?: string; idp?: { entityId: string; ssoUrl: string } } = {},
): Promise<Stack> {
  const database = await createTestDatabase();
  const operator = { actor: { type: 'operator' as const, id: 'example-app-test' } };
  const roster = createServer();
  const rosterUrl = `http://localhost:${await listen(roster)}`;
  roster.on(
    'request',
    createSsoApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
      lifecycle: createLifecycle(),
      baseUrl: rosterUrl,
    }),
  );
  const tenant = await createTenant(database.db, 'acme', operator);
  const idp = await TestIdp.create(options.idp ?? {});
  await createSamlIdp(
    database.db,
    tenant.id,
    { xml: idp.metadataXml() },
    { name: 'okta', preset: 'okta' },
    operator,
    systemClock,
  );

  const exampleServer = createServer();
  const appPort = await listen(exampleServer);
  const appUrl = `http://${options.appHost ?? '127.0.0.1'}:${appPort}`;
  // What `roster app add` does: the app's callback, where it may return after signing out,
  // and where Roster tells it of a session's end.
  const { app, clientSecret } = await addOidcApp(
    database.db,
    tenant.id,
    {
      name: 'Example app',
      redirectUris: [`${appUrl}${PATHS.callback}`],
      postLogoutRedirectUris: [`${appUrl}${PATHS.signedOut}`],
      backchannelLogoutUri: `http://127.0.0.1:${appPort}${PATHS.backchannelLogout}`,
    },
    operator,
  );
  const issuer = tenantIssuerUrl(rosterUrl, tenant.slug);
  const oidc = await discoverRoster({
    issuer: new URL(issuer),
    clientId: app.clientId,
    clientSecret: String(clientSecret),
  });
  exampleServer.on('request', createExampleApp({ oidc, appBaseUrl: appUrl }));
  const deliveries = startDeliveryWorker(database.db, {
    renderers: {
      [BACKCHANNEL_LOGOUT_DELIVERY]: backchannelLogoutRenderer(database.db, rosterUrl),
    },
    // What ROSTER_OUTBOUND_ALLOW_HOSTS=127.0.0.1 allows: the app on this machine.
    policy: outboundPolicyFrom('127.0.0.1'),
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    intervalMs: DELIVERY_INTERVAL_MS,
  });

  return {
    database,
    tenant,
    idp,
    app,
    issuer,
    rosterUrl,
    appUrl,
    close: async () => {
      await deliveries.stop();
      await closeGracefully(exampleServer, 2_000);
      await closeGracefully(roster, 2_000);
      await database.close();
    },
  };
}

/** The Roster session id (`sid`) of a person's latest sign-in to the app. */
export async function sidOf(stack: Stack, sub: string): Promise<string> {
  const row = await stack.database.db
    .selectFrom('oidc_app_sessions')
    .select('sid')
    .where('tenant_id', '=', stack.tenant.id)
    .where('client_id', '=', stack.app.clientId)
    .where('account_id', '=', sub)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  return row.sid;
}

/**
 * A logout token as Roster sends it (Back-Channel Logout 1.0 §2.4), signed with the tenant's
 * current key unless another key is given; `claims` adds to or overrides the standard ones.
 */
export async function logoutToken(
  stack: Stack,
  claims: Record<string, unknown>,
  options: { key?: jose.JWK; typ?: string } = {},
): Promise<string> {
  const jwk = options.key ?? (await loadSigningKeys(stack.database.db, stack.tenant.id)).keys[0];
  if (!jwk) throw new Error('the tenant has no signing key');
  const standard = {
    iss: stack.issuer,
    aud: stack.app.clientId,
    iat: Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  };
  // A claim set to undefined is left out of the token.
  return new jose.SignJWT({ ...standard, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: String(jwk.kid), typ: options.typ ?? 'logout+jwt' })
    .sign(await jose.importJWK(jwk, 'RS256'));
}
