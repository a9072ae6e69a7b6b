// The example app against the real thing: Roster's SSO app, a SAML IdP behind it, and Roster's
// delivery worker. A person signs in and sees who they are; when Roster ends their session, its
// logout token ends theirs in the app and no one else's; a bad token is refused and ends nothing.
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deactivateUser, systemClock } from '@roster/core';
import { FlowBrowser, signInThroughIdp } from '@roster/sso/testing/oidc';
import { PATHS } from '../src/index.js';
import { logoutToken, sidOf, startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const person = (name: string) => ({
  nameId: `${name.toLowerCase()}@example.com`,
  attributes: {
    email: `${name.toLowerCase()}@example.com`,
    firstName: name,
    lastName: 'Lee',
    displayName: `${name} Lee`,
    groups: ['eng', 'ops'],
  },
});

/** A page's visible text, roughly: tags dropped, whitespace folded. */
const visibleText = (html: string): string =>
  html
    .replace(/<title>[\s\S]*?<\/title>/i, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();

/** Opens a page of the app, following its redirects; what the person sees there. */
async function open(browser: FlowBrowser, url: string) {
  const landed = await browser.follow(url, stack.appUrl);
  return {
    url: landed.url,
    status: landed.response?.status,
    text: visibleText((await landed.response?.text()) ?? ''),
  };
}

/** Clicks "Sign in" in the app, answers at the IdP, and returns the page the app shows. */
async function signIn(browser: FlowBrowser, name: string) {
  const toRoster = await browser.follow(`${stack.appUrl}${PATHS.signIn}`, stack.appUrl);
  expect(toRoster.url.startsWith(stack.issuer)).toBe(true);
  const back = await signInThroughIdp(
    { baseUrl: stack.rosterUrl, idp: stack.idp },
    browser,
    toRoster.url,
    person(name),
  );
  expect(back.url.startsWith(`${stack.appUrl}${PATHS.callback}?`)).toBe(true);
  return open(browser, back.url);
}

async function homeOf(browser: FlowBrowser): Promise<string> {
  return (await open(browser, `${stack.appUrl}${PATHS.home}`)).text;
}

async function userIdOf(name: string): Promise<string> {
  const row = await stack.database.db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', stack.tenant.id)
    .where('user_name', '=', `${name.toLowerCase()}@example.com`)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function postLogoutToken(body: Record<string, string>) {
  return fetch(`${stack.appUrl}${PATHS.backchannelLogout}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
}

describe('signing in to the example app through Roster', () => {
  it('lands on the app signed in, showing sub, email, name and groups from the ID token', async () => {
    const browser = new FlowBrowser();
    expect(await homeOf(browser)).toContain('You are not signed in.');
    const landed = await signIn(browser, 'Ann');
    expect(landed.url).toBe(`${stack.appUrl}${PATHS.home}`);
    expect(landed.text).toContain('Signed in as Ann Lee');
    expect(landed.text).toContain(`sub ${await userIdOf('Ann')}`);
    expect(landed.text).toContain('email ann@example.com');
    expect(landed.text).toContain('groups eng, ops');
    expect(await homeOf(browser)).toContain('Signed in as Ann Lee');
  });

  it('keeps its session cookie HttpOnly and SameSite=Lax, and refuses a callback it did not start', async () => {
    const login = await fetch(`${stack.appUrl}${PATHS.signIn}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('example_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const location = new URL(String(login.headers.get('location')));
    expect(location.href.startsWith(stack.issuer)).toBe(true);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('state')).toBeTruthy();
    expect(location.searchParams.get('nonce')).toBeTruthy();

    const callback = await open(
      new FlowBrowser(),
      `${stack.appUrl}${PATHS.callback}?code=x&state=y`,
    );
    expect(callback.status).toBe(400);
    expect(callback.text).toContain('This sign-in has expired');
  });
});

describe('back-channel logout', () => {
  it('ends the person’s session here when Roster ends theirs, and no one else’s', async () => {
    const fay = new FlowBrowser();
    const gus = new FlowBrowser();
    await signIn(fay, 'Fay');
    await signIn(gus, 'Gus');
    // An operator deactivates Fay: Roster ends her session and queues a logout token for every
    // app she signed in to, which its delivery worker posts to the app's back-channel endpoint.
    await deactivateUser(
      stack.database.db,
      stack.tenant.id,
      await userIdOf('Fay'),
      { actor: { type: 'operator', id: 'example-app-test' } },
      systemClock,
    );
    // Delivery is asynchronous: the page says so within seconds.
    await expect
      .poll(() => homeOf(fay), { timeout: 10_000, interval: 50 })
      .toContain('You are not signed in.');
    expect(await homeOf(gus)).toContain('Signed in as Gus Lee');
    // The app took the token: one notice, answered 200 by the example's endpoint (recorded by
    // the worker once the answer is in).
    const deliveries = () =>
      stack.database.db
        .selectFrom('outbound_deliveries')
        .select(['state', 'last_status', 'target_url'])
        .where('tenant_id', '=', stack.tenant.id)
        .execute();
    await expect.poll(deliveries, { timeout: 10_000, interval: 50 }).toEqual([
      {
        state: 'delivered',
        last_status: 200,
        target_url: expect.stringMatching(/\/backchannel-logout$/),
      },
    ]);
  });

  it('ends the session a logout token names by sid, and answers 200 with no-store', async () => {
    const browser = new FlowBrowser();
    await signIn(browser, 'Eve');
    const sub = await userIdOf('Eve');
    const answer = await postLogoutToken({
      logout_token: await logoutToken(stack, { sub, sid: await sidOf(stack, sub) }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await homeOf(browser)).toContain('You are not signed in.');
  });

  it('ends every session of the person when the token names only sub', async () => {
    const laptop = new FlowBrowser();
    const phone = new FlowBrowser();
    await signIn(laptop, 'Cy');
    await signIn(phone, 'Cy');
    const answer = await postLogoutToken({
      logout_token: await logoutToken(stack, { sub: await userIdOf('Cy') }, { typ: 'JWT' }),
    });
    expect(answer.status).toBe(200);
    expect(await homeOf(laptop)).toContain('You are not signed in.');
    expect(await homeOf(phone)).toContain('You are not signed in.');
  });

  it('refuses a bad logout token with 400 and a reason, and ends nothing', async () => {
    const browser = new FlowBrowser();
    await signIn(browser, 'Dee');
    const sub = await userIdOf('Dee');
    const sid = await sidOf(stack, sub);
    const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const strangerKey = { ...(await jose.exportJWK(privateKey)), kid: 'stranger' };
    const cases: [string, Promise<string> | string][] = [
      ['no token', ''],
      ['not a JWT', 'not-a-jwt'],
      ['signed with another key', logoutToken(stack, { sub, sid }, { key: strangerKey })],
      ['for another app', logoutToken(stack, { sub, sid, aud: 'app_someone_else' })],
      ['from another issuer', logoutToken(stack, { sub, sid, iss: `${stack.issuer}x` })],
      ['without the logout event', logoutToken(stack, { sub, sid, events: undefined })],
      ['with a nonce', logoutToken(stack, { sub, sid, nonce: 'n' })],
      ['naming no one', logoutToken(stack, {})],
      ['of another type', logoutToken(stack, { sub, sid }, { typ: 'at+jwt' })],
      ['an hour old', logoutToken(stack, { sub, sid, iat: Math.floor(Date.now() / 1000) - 3600 })],
    ];
    for (const [label, token] of cases) {
      const answer = await postLogoutToken({ logout_token: await token });
      expect({ label, status: answer.status }).toEqual({ label, status: 400 });
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(await answer.json()).toMatchObject({ error: 'invalid_request' });
    }
    expect(await homeOf(browser)).toContain('Signed in as Dee Lee');
  });
});
