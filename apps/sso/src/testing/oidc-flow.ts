// An OpenID Connect sign-in through Roster as an app and a browser make it, for tests and
// benchmarks: a browser that keeps cookies by host and path and follows redirects by hand, and the
// app's side with openid-client (authorization URL with PKCE, state and nonce; the callback).
import * as client from 'openid-client';
import { toPostBinding, type ResponseOptions, type TestIdp } from './test-idp.js';

export const APP_CALLBACK = 'http://app.example.test/callback';
export const APP_SIGNED_OUT = 'http://app.example.test/signed-out';

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
      this.jar = this.jar.filter(
        (c) => !(c.name === name && c.host === url.host && c.path === path),
      );
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
      body: init.form ? new URLSearchParams(init.form).toString() : null,
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
      if (response.status < 300 || response.status >= 400 || !location)
        return { url: at, response };
      at = new URL(location, at).href;
      if (new URL(at).origin !== origin) return { url: at };
      response = await this.request(at);
    }
    throw new Error('too many redirects');
  }
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
  stack: { readonly baseUrl: string; readonly idp: TestIdp },
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

/** `value`, or a failure naming what was missing (tests read optional protocol fields with it). */
export function present<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`expected ${what}`);
  return value;
}
