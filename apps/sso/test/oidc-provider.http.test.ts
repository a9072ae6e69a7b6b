// An app signs people in through Roster's OpenID Provider: openid-client as the app, the test
// SAML IdP behind Roster, real HTTP. The ID token is checked with jose against the published
// JWKS; `sub` is the Roster user id, the same before and after SCIM adopts the JIT user.
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createUserFromScim,
  deactivateUser,
  findUser,
  listAuditEvents,
  systemClock,
} from '@roster/core';
import {
  finishAppSignIn,
  FlowBrowser,
  present,
  signInThroughIdp,
  startAppSignIn,
  startOidcStack,
  APP_CALLBACK,
  type OidcStack,
} from './support/oidc-flow.js';
import { directoryCounts } from './support/sso-fixture.js';

let stack: OidcStack;
const scim = { actor: { type: 'scim_token' as const, id: 'test' } };
const operator = { actor: { type: 'operator' as const, id: 'test' } };

beforeAll(async () => {
  stack = await startOidcStack();
});
afterAll(async () => {
  await stack?.close();
});

const ann = {
  nameId: 'ann@example.com',
  attributes: {
    email: 'ann@example.com',
    firstName: 'Ann',
    lastName: 'Lee',
    displayName: 'Ann Lee',
    groups: ['eng'],
  },
};

async function signIn(browser = new FlowBrowser(), identity = ann) {
  const pending = await startAppSignIn(stack.client);
  const end = await signInThroughIdp(stack, browser, pending.authorizationUrl, identity);
  return { pending, end, browser };
}

describe('an app signs a person in through Roster', () => {
  it('gets an ID token for the JIT user, verified against the JWKS, and userinfo agrees', async () => {
    const { pending, end } = await signIn();
    expect(end.url.startsWith(`${APP_CALLBACK}?`)).toBe(true);
    const tokens = await finishAppSignIn(stack.client, pending, end.url);
    const metadata = stack.client.serverMetadata();
    const { payload, protectedHeader } = await jose.jwtVerify(
      present(tokens.id_token, 'an ID token'),
      jose.createRemoteJWKSet(new URL(present(metadata.jwks_uri, 'jwks_uri'))),
      { issuer: stack.issuer, audience: stack.app.clientId },
    );
    expect(protectedHeader.alg).toBe('RS256');
    const user = await findUser(stack.database.db, stack.tenant.id, String(payload.sub));
    expect(user?.userName).toBe('ann@example.com');
    expect(payload).toMatchObject({
      email: 'ann@example.com',
      name: 'Ann Lee',
      preferred_username: 'ann@example.com',
    });
    expect(payload.nonce).toBe(pending.nonce);
    expect(payload.groups).toEqual(['eng']);
    const openid = await import('openid-client');
    const info = await openid.fetchUserInfo(stack.client, tokens.access_token, String(payload.sub));
    expect(info.sub).toBe(payload.sub);
    expect(info.email).toBe('ann@example.com');
  });

  it('keeps sub through SCIM adopting the JIT user', async () => {
    const first = await signIn(new FlowBrowser(), { ...ann, nameId: 'bob@example.com' });
    const before = present(
      (await finishAppSignIn(stack.client, first.pending, first.end.url)).claims(),
      'claims',
    );
    const { user, outcome } = await createUserFromScim(
      stack.database.db,
      stack.tenant.id,
      {
        userName: 'bob@example.com',
        active: true,
        emails: [{ value: 'bob@example.com', primary: true }],
      },
      scim,
      systemClock,
    );
    expect(outcome).toBe('adopted');
    expect(user.id).toBe(before.sub);
    const again = await signIn(new FlowBrowser(), { ...ann, nameId: 'bob@example.com' });
    const after = present(
      (await finishAppSignIn(stack.client, again.pending, again.end.url)).claims(),
      'claims',
    );
    expect(after.sub).toBe(before.sub);
  });

  it('never gives a deactivated person a code: a clear page, an audit event, nothing written', async () => {
    const { pending, end, browser } = await signIn(new FlowBrowser(), {
      ...ann,
      nameId: 'cy@example.com',
    });
    const sub = present(
      (await finishAppSignIn(stack.client, pending, end.url)).claims(),
      'claims',
    ).sub;
    const user = present(await findUser(stack.database.db, stack.tenant.id, sub), 'the user');
    await deactivateUser(stack.database.db, stack.tenant.id, user.id, operator, systemClock);

    // Same browser: the provider's session died with the Roster session, so the app's next
    // authorize goes back to the IdP, where the rules refuse.
    const before = await directoryCounts(stack.database);
    const retry = await signIn(browser, { ...ann, nameId: 'cy@example.com' });
    expect(retry.end.url.startsWith(APP_CALLBACK)).toBe(false);
    expect(retry.end.response?.status).toBe(403);
    const events = await listAuditEvents(stack.database.db, stack.tenant.id, { targetId: user.id });
    expect(events.at(-1)?.action).toBe('sign_in.refused');
    const still = await findUser(stack.database.db, stack.tenant.id, user.id);
    expect(still?.state).toBe('inactive');
    expect(await directoryCounts(stack.database)).toEqual(before);
  });

  it('redeems a code once: a second redemption fails and revokes what the first issued', async () => {
    const { pending, end } = await signIn(new FlowBrowser(), { ...ann, nameId: 'dee@example.com' });
    const tokens = await finishAppSignIn(stack.client, pending, end.url);
    await expect(finishAppSignIn(stack.client, pending, end.url)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const openid = await import('openid-client');
    const introspected = await openid.tokenIntrospection(stack.client, tokens.access_token);
    expect(introspected.active).toBe(false);
  });
});
