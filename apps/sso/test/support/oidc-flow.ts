// The OpenID Provider through real HTTP: the SSO app listening on a loopback port, one tenant
// with a test SAML IdP and a registered app whose client (openid-client) is discovered from the
// issuer. The browser and the app's side of the flow are in src/testing/oidc-flow.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import {
  addOidcApp,
  createLogger,
  createSamlIdp,
  createTenant,
  systemClock,
  tenantIssuerUrl,
  type OidcApp,
  type SamlIdp,
  type Tenant,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle } from '@roster/http';
import { createSsoApp, type SsoSettings } from '../../src/index.js';
import { APP_CALLBACK, APP_SIGNED_OUT, present } from '../../src/testing/oidc-flow.js';
import { TestIdp } from '../../src/testing/test-idp.js';

export * from '../../src/testing/oidc-flow.js';
const operator = { actor: { type: 'operator' as const, id: 'test' } };

export interface OidcStack {
  readonly database: TestDatabase;
  readonly baseUrl: string;
  readonly tenant: Tenant;
  readonly idp: TestIdp;
  readonly idpConfig: SamlIdp;
  readonly app: OidcApp;
  readonly clientSecret: string;
  readonly issuer: string;
  /** The app's OpenID Connect client configuration (discovered from the issuer). */
  readonly client: client.Configuration;
  close(): Promise<void>;
}

/** Starts the SSO app on a loopback port with one tenant, one IdP and one registered app. */
export async function startOidcStack(
  options: { slug?: string; settings?: Partial<SsoSettings>; backchannelLogoutUri?: string } = {},
): Promise<OidcStack> {
  const slug = options.slug ?? 'acme';
  const database = await createTestDatabase();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
  const sso = createSsoApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl,
    settings: options.settings ?? {},
  });
  server.on('request', sso);
  const stack = await addTenant(database, baseUrl, slug, options.backchannelLogoutUri);
  return {
    ...stack,
    database,
    baseUrl,
    close: async () => {
      await closeGracefully(server, 5_000);
      await database.close();
    },
  };
}

/** A tenant with one IdP and one confidential app, and the app's discovered client. */
export async function addTenant(
  database: TestDatabase,
  baseUrl: string,
  slug: string,
  backchannelLogoutUri?: string,
) {
  const tenant = await createTenant(database.db, slug, operator);
  const idp = await TestIdp.create({ entityId: `https://idp.example.test/${slug}` });
  const idpConfig = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: idp.metadataXml() },
    { name: 'okta', preset: 'okta' },
    operator,
    systemClock,
  );
  const { app, clientSecret: issuedSecret } = await addOidcApp(
    database.db,
    tenant.id,
    {
      name: 'Billing',
      redirectUris: [APP_CALLBACK],
      postLogoutRedirectUris: [APP_SIGNED_OUT],
      backchannelLogoutUri: backchannelLogoutUri ?? null,
    },
    operator,
  );
  const clientSecret = present(issuedSecret, 'the client secret');
  const issuer = tenantIssuerUrl(baseUrl, slug);
  const discovered = await client.discovery(
    new URL(issuer),
    app.clientId,
    undefined,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  return { tenant, idp, idpConfig, app, clientSecret, issuer, client: discovered };
}
