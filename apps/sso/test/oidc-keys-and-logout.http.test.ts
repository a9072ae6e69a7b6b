// The provider's keys rotate with overlap (a token signed before a rotation still verifies
// against the JWKS after it), and an app's RP-initiated logout ends the Roster session behind it.
import * as jose from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKeys } from '@roster/core';
import {
  APP_SIGNED_OUT,
  finishAppSignIn,
  FlowBrowser,
  present,
  signInThroughIdp,
  startAppSignIn,
  startOidcStack,
  type OidcStack,
} from './support/oidc-flow.js';

let stack: OidcStack;
const operator = { actor: { type: 'operator' as const, id: 'test' } };
const person = { nameId: 'ann@example.com', attributes: { email: 'ann@example.com' } };

beforeAll(async () => {
  stack = await startOidcStack({ settings: { oidcKeyRecheckIntervalMs: 0 } });
});
afterAll(async () => {
  await stack?.close();
});

async function signIn(browser = new FlowBrowser()) {
  const pending = await startAppSignIn(stack.client);
  const end = await signInThroughIdp(stack, browser, pending.authorizationUrl, person);
  return finishAppSignIn(stack.client, pending, end.url);
}

const jwks = async () =>
  (await (await fetch(present(stack.client.serverMetadata().jwks_uri, 'jwks_uri'))).json()) as {
    keys: Record<string, unknown>[];
  };

describe('signing keys', () => {
  it('publishes public keys only, the next one before it signs', async () => {
    const { keys } = await jwks();
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        expect(key).not.toHaveProperty(secret);
    }
  });

  it('signs with the next key after a rotation; tokens signed before still verify', async () => {
    const before = present((await signIn()).id_token, 'an ID token');
    const oldKid = jose.decodeProtectedHeader(before).kid;
    const rotated = await rotateSigningKeys(stack.database.db, stack.tenant.id, operator);
    expect(rotated.retired).toContain(oldKid);
    const after = present((await signIn()).id_token, 'an ID token');
    expect(jose.decodeProtectedHeader(after).kid).toBe(rotated.current);
    const keySet = jose.createLocalJWKSet(await jwks());
    const expected = { issuer: stack.issuer, audience: stack.app.clientId };
    await expect(jose.jwtVerify(before, keySet, expected)).resolves.toBeTruthy();
    await expect(jose.jwtVerify(after, keySet, expected)).resolves.toBeTruthy();
  });
});

describe("an app's RP-initiated logout", () => {
  it('asks, then ends the Roster session: the next authorize goes back to the IdP', async () => {
    const browser = new FlowBrowser();
    const tokens = await signIn(browser);
    const sessionsBefore = await stack.database.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('tenant_id', '=', stack.tenant.id)
      .execute();

    const logout = client.buildEndSessionUrl(stack.client, {
      id_token_hint: present(tokens.id_token, 'an ID token'),
      post_logout_redirect_uri: APP_SIGNED_OUT,
      state: 'bye',
    });
    const question = await browser.request(logout.href);
    expect(question.status).toBe(200);
    const page = await question.text();
    expect(page).toContain('Billing asks to sign you out.');
    const action = present(/action="([^"]+)"/.exec(page)?.[1], 'the form action');
    const xsrf = present(/name="xsrf" value="([^"]+)"/.exec(page)?.[1], 'the xsrf field');
    const done = await browser.request(new URL(action, stack.baseUrl).href, {
      form: { xsrf, logout: 'yes' },
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${APP_SIGNED_OUT}?state=bye`);

    const sessionsAfter = await stack.database.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('tenant_id', '=', stack.tenant.id)
      .execute();
    expect(sessionsAfter.length).toBe(sessionsBefore.length - 1);
    const introspected = await client.tokenIntrospection(stack.client, tokens.access_token);
    expect(introspected.active).toBe(false);

    const again = await startAppSignIn(stack.client);
    const next = await browser.follow(again.authorizationUrl, stack.baseUrl);
    expect(next.url.startsWith(stack.idp.ssoUrl)).toBe(true);
  });
});
