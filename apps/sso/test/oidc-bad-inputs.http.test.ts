// Every bad input at the OpenID Provider gets the error the specifications name (RFC 6749 §4.1.2.1
// and §5.2, RFC 7636 §4.6, OpenID Connect RP-Initiated Logout 1.0 §2) and writes nothing.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTenant,
  APP_CALLBACK,
  FlowBrowser,
  present,
  signInThroughIdp,
  startAppSignIn,
  startOidcStack,
  type OidcStack,
  type PendingSignIn,
} from './support/oidc-flow.js';

let stack: OidcStack;
let other: Awaited<ReturnType<typeof addTenant>>;

beforeAll(async () => {
  stack = await startOidcStack();
  other = await addTenant(stack.database, stack.baseUrl, 'globex');
});
afterAll(async () => {
  await stack?.close();
});

const person = { nameId: 'ann@example.com', attributes: { email: 'ann@example.com' } };

/** A fresh code for the acme app, not yet redeemed. */
async function freshCode(): Promise<{ pending: PendingSignIn; code: string }> {
  const pending = await startAppSignIn(stack.client);
  const end = await signInThroughIdp(stack, new FlowBrowser(), pending.authorizationUrl, person);
  const code = new URL(end.url).searchParams.get('code');
  if (!code) throw new Error(`no code: ${end.url}`);
  return { pending, code };
}

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** The acme app's own credentials. */
function acmeAuth(): string {
  return basic(stack.app.clientId, stack.clientSecret);
}

/** A raw token request, as a hostile or broken client would send it. */
async function tokenRequest(
  issuer: string,
  form: Record<string, string>,
  authorization?: string,
): Promise<{ status: number; body: { error?: string; access_token?: string } }> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

const redeem = (pending: PendingSignIn, code: string, overrides: Record<string, string> = {}) => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: APP_CALLBACK,
  code_verifier: pending.verifier,
  ...overrides,
});

/** Rows the provider keeps (codes, tokens, grants, sessions, interactions). */
const providerRows = async () =>
  Number(
    (
      await stack.database.db
        .selectFrom('oidc_payloads')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('the authorization endpoint', () => {
  const authorize = async (params: Record<string, string>, issuer = stack.issuer) => {
    const res = await new FlowBrowser().request(`${issuer}/auth?${new URLSearchParams(params)}`);
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  };
  const valid = () => ({
    client_id: stack.app.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: APP_CALLBACK,
    code_challenge: client.randomPKCECodeVerifier(),
    code_challenge_method: 'S256',
    state: 'xyz',
  });

  it.each([
    ['an unknown client', { client_id: 'app_unknown' }, 'invalid_client'],
    ["another tenant's client", { client_id: '<other>' }, 'invalid_client'],
    [
      'an unregistered redirect_uri',
      { redirect_uri: 'http://app.example.test/elsewhere' },
      'invalid_redirect_uri',
    ],
    [
      'a registered redirect_uri with something added',
      { redirect_uri: `${APP_CALLBACK}?next=/admin` },
      'invalid_redirect_uri',
    ],
  ])('refuses %s on a page, never redirecting', async (_case, change, error) => {
    const before = await providerRows();
    const params = { ...valid(), ...change };
    if (params.client_id === '<other>') params.client_id = other.app.clientId;
    const answer = await authorize(params);
    expect(answer.status).toBe(400);
    expect(answer.location).toBeNull();
    expect(answer.text).toContain(error);
    expect(answer.text).not.toMatch(/at .*\.js:\d+/);
    expect(await providerRows()).toBe(before);
  });

  it.each([
    ['no PKCE challenge', { code_challenge: '', code_challenge_method: '' }, 'invalid_request'],
    ['a plain PKCE challenge', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['a response type other than code', { response_type: 'token' }, 'unsupported_response_type'],
  ])('sends %s back to the app as an error', async (_case, change, error) => {
    const before = await providerRows();
    const params: Record<string, string> = { ...valid(), ...change };
    for (const [key, value] of Object.entries(params)) if (value === '') delete params[key];
    const answer = await authorize(params);
    expect(answer.status).toBe(303);
    const back = new URL(present(answer.location, 'a Location'));
    expect(`${back.origin}${back.pathname}`).toBe(APP_CALLBACK);
    // Errors come back in the query, or in the fragment for the implicit response types
    // (OAuth 2.0 Multiple Response Type Encoding Practices §5).
    const said = back.hash ? new URLSearchParams(back.hash.slice(1)) : back.searchParams;
    expect(said.get('error')).toBe(error);
    expect(said.get('state')).toBe('xyz');
    expect(await providerRows()).toBe(before);
  });
});

describe('the token endpoint', () => {
  it.each<[string, () => string | undefined, Record<string, string>, number, string]>([
    [
      'a wrong secret',
      () => basic(stack.app.clientId, 'roster_cs_wrong'),
      {},
      401,
      'invalid_client',
    ],
    ['an unknown client', () => basic('app_unknown', 'x'), {}, 401, 'invalid_client'],
    ['no client authentication', () => undefined, {}, 400, 'invalid_request'],
    [
      'a wrong PKCE verifier',
      acmeAuth,
      { code_verifier: client.randomPKCECodeVerifier() },
      400,
      'invalid_grant',
    ],
    ['no PKCE verifier', acmeAuth, { code_verifier: '' }, 400, 'invalid_grant'],
    [
      'another redirect_uri',
      acmeAuth,
      { redirect_uri: 'http://app.example.test/elsewhere' },
      400,
      'invalid_grant',
    ],
    ['a code that was never issued', acmeAuth, { code: 'not-a-code' }, 400, 'invalid_grant'],
  ])('refuses %s and writes nothing', async (_case, auth, change, status, error) => {
    const { pending, code } = await freshCode();
    const before = await providerRows();
    const form: Record<string, string> = { ...redeem(pending, code), ...change };
    for (const [key, value] of Object.entries(form)) if (value === '') delete form[key];
    const answer = await tokenRequest(stack.issuer, form, auth());
    expect(answer).toMatchObject({ status, body: { error } });
    expect(await providerRows()).toBe(before);
    // The code is still good for its rightful app: the refused attempt used nothing up.
    const good = await tokenRequest(stack.issuer, redeem(pending, code), acmeAuth());
    expect(good.status).toBe(200);
  });

  it('refuses an expired code', async () => {
    const { pending, code } = await freshCode();
    await stack.database.db
      .updateTable('oidc_payloads')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('model', '=', 'AuthorizationCode')
      .execute();
    const answer = await tokenRequest(stack.issuer, redeem(pending, code), acmeAuth());
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it("refuses another tenant's code at this tenant's endpoint, and this tenant's code at another's", async () => {
    const { pending, code } = await freshCode();
    const elsewhere = await tokenRequest(
      other.issuer,
      redeem(pending, code),
      basic(other.app.clientId, other.clientSecret),
    );
    expect(elsewhere).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const wrongClient = await tokenRequest(
      stack.issuer,
      redeem(pending, code),
      basic(other.app.clientId, other.clientSecret),
    );
    expect(wrongClient).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('lets exactly one of two concurrent redemptions of a code win, and revokes what it got', async () => {
    const { pending, code } = await freshCode();
    const answers = await Promise.all([
      tokenRequest(stack.issuer, redeem(pending, code), acmeAuth()),
      tokenRequest(stack.issuer, redeem(pending, code), acmeAuth()),
    ]);
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won.length).toBeLessThanOrEqual(1);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    for (const answer of lost) expect(answer.body.error).toBe('invalid_grant');
    for (const answer of won) {
      const introspected = await client.tokenIntrospection(
        stack.client,
        present(answer.body.access_token, 'an access token'),
      );
      expect(introspected.active).toBe(false);
    }
  });
});

describe('RP-initiated logout', () => {
  it('refuses a tampered id_token_hint with a page, and ends nothing', async () => {
    const { pending, code } = await freshCode();
    const tokens = await tokenRequest(
      stack.issuer,
      redeem(pending, code),
      basic(stack.app.clientId, stack.clientSecret),
    );
    const idToken = present((tokens.body as { id_token?: string }).id_token, 'an ID token');
    const tampered = `${idToken.slice(0, -6)}AAAAAA`;
    const before = await providerRows();
    const url = client.buildEndSessionUrl(stack.client, {
      id_token_hint: tampered,
      post_logout_redirect_uri: 'http://app.example.test/signed-out',
    });
    const res = await new FlowBrowser().request(url.href);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_request');
    expect(await providerRows()).toBe(before);
  });
});
