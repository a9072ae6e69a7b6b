// The OpenID Provider through real HTTP: the SSO app listening on a loopback port, an app that is
// a real OpenID Connect client (openid-client), a test SAML IdP, and a browser that keeps
// cookies by host and path and follows redirects by hand until the flow leaves Roster.
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
import { TestIdp, toPostBinding, type ResponseOptions } from '../../src/testing/test-idp.js';

export const APP_CALLBACK = 'http://app.example.test/callback';
export const APP_SIGNED_OUT = 'http://app.example.test/signed-out';
const operator = { actor: { type: 'operator' as const, id: 'test' } };

interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
}

/** A browser: cookies by host and path (RFC 6265 §5.1.4), redirects followed by the test. */
export class FlowBrowser {
  private jar: Cookie[] = [];

  cookieHeader(url: URL): string {
    return this.jar
      .filter(
        (c) =>
          c.host === url.host &&
          (url.pathname === c.path ||
            url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private keep(url: URL, res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const path =
        attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? url.pathname;
      this.jar = this.jar.filter((c) => !(c.name === name && c.host === url.host && c.path === path));
      const expired =
        value === '' ||
        attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a) || /^max-age=0$/i.test(a));
      if (!expired) this.jar.push({ name, value, host: url.host, path });
    }
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const res = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        cookie: this.cookieHeader(target),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.keep(target, res);
    return res;
  }

  /** Follows redirects while they stay on `origin`; returns the first answer that leaves it. */
  async follow(
    url: string,
    origin: string,
    init: { form?: Record<string, string> } = {},
  ): Promise<{ url: string; response?: Response }> {
    let response = await this.request(url, init);
    let at = url;
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url: at, response };
      at = new URL(location, at).href;
      if (new URL(at).origin !== origin) return { url: at };
      response = await this.request(at);
    }
    throw new Error('too many redirects');
  }
}

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
      await closeGracefully(server);
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
  const { app, clientSecret } = await addOidcApp(
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
  const issuer = tenantIssuerUrl(baseUrl, slug);
  const discovered = await client.discovery(
    new URL(issuer),
    app.clientId,
    undefined,
    client.ClientSecretBasic(clientSecret!),
    { execute: [client.allowInsecureRequests] },
  );
  return { tenant, idp, idpConfig, app, clientSecret: clientSecret!, issuer, client: discovered };
}

/** What the app keeps between sending the browser off and its callback. */
export interface PendingSignIn {
  readonly authorizationUrl: string;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

export async function startAppSignIn(
  config: client.Configuration,
  extra: Record<string, string> = {},
): Promise<PendingSignIn> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: APP_CALLBACK,
    scope: 'openid email profile groups',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { authorizationUrl: url.href, verifier, state, nonce };
}

/**
 * The whole browser side: authorize at Roster, on to the IdP, the IdP's answer posted to the
 * ACS, back through the provider; returns where the browser was sent at the end (the app's
 * callback, or a Roster page it stopped at).
 */
export async function signInThroughIdp(
  stack: Pick<OidcStack, 'baseUrl' | 'idp'>,
  browser: FlowBrowser,
  authorizationUrl: string,
  identity: Omit<ResponseOptions, 'acsUrl' | 'audience' | 'inResponseTo'>,
): Promise<{ url: string; response?: Response }> {
  const toIdp = await browser.follow(authorizationUrl, stack.baseUrl);
  if (!toIdp.url.startsWith(stack.idp.ssoUrl)) return toIdp;
  const authnRequest = stack.idp.readAuthnRequest(toIdp.url);
  const { xml } = await stack.idp.response({
    acsUrl: authnRequest.acsUrl,
    audience: authnRequest.issuer,
    inResponseTo: authnRequest.id,
    ...identity,
  });
  return browser.follow(authnRequest.acsUrl, stack.baseUrl, {
    form: { SAMLResponse: toPostBinding(xml) },
  });
}

/** The app's callback: exchanges the code (PKCE, state and nonce checked by openid-client). */
export async function finishAppSignIn(
  config: client.Configuration,
  pending: PendingSignIn,
  callbackUrl: string,
) {
  return client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
  });
}
