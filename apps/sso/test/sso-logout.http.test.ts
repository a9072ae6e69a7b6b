// Local logout, SAML single logout both ways, and the IdP's signature on logout messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSamlIdp, serviceProviderUrls, systemClock } from '@roster/core';
import { TestIdp } from '../src/testing/test-idp.js';
import {
  BASE_URL,
  APP_ORIGIN,
  answer,
  Browser,
  createFixture,
  pathOf,
  type Fixture,
} from './support/sso-fixture.js';

let f: Fixture;
/** An IdP without single logout: logout at Roster ends there. */
let plain: Fixture['okta'];
beforeAll(async () => {
  f = await createFixture();
  const idp = await TestIdp.create({ entityId: 'https://idp.example.test/no-slo' });
  const config = await createSamlIdp(
    f.database.db,
    f.tenant.id,
    { xml: idp.metadataXml({ withSlo: false }) },
    { name: 'no-slo', preset: 'okta' },
    { actor: { type: 'operator', id: 'test' } },
    systemClock,
  );
  plain = { idp, config, sp: serviceProviderUrls(BASE_URL, 'acme', config.id) };
});
afterAll(() => f.database.close());

async function signedIn(side: Fixture['okta'], nameId: string, sessionIndex: string) {
  const browser = new Browser(f.app());
  const { request } = await browser.startLogin(side.idp, side.sp);
  const { xml } = await side.idp.response(
    answer(side.sp, request.id, nameId, {
      sessionIndex,
      sign: side === f.entra ? 'assertion' : 'both',
    }),
  );
  expect((await browser.postResponse(side.sp, xml)).status).toBe(303);
  return browser;
}

describe('logout', () => {
  it('SP-initiated: ends the session, sends a LogoutRequest to the IdP, and takes its LogoutResponse back', async () => {
    const browser = await signedIn(f.okta, 'lou@example.com', '_lou');
    const out = await browser.get(
      `/saml/acme/logout?returnTo=${encodeURIComponent(`${APP_ORIGIN}/bye`)}`,
    );
    expect(out.status).toBe(303);
    const location = String(out.headers.location);
    expect(location.startsWith(f.okta.idp.sloUrl)).toBe(true);
    const logoutRequest = f.okta.idp.readAuthnRequest(location);
    expect(logoutRequest.xml).toContain('LogoutRequest');
    expect(logoutRequest.xml).toContain('lou@example.com');
    expect(logoutRequest.xml).toContain('_lou');
    expect((await browser.whoami()).status).toBe(401);

    const query = f.okta.idp.logoutResponseQuery({
      inResponseTo: logoutRequest.id,
      destination: f.okta.sp.sloUrl,
    });
    const back = await browser.get(`${pathOf(f.okta.sp.sloUrl)}?${query}`);
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe(`${APP_ORIGIN}/bye`);
  });

  it('IdP-initiated: a signed LogoutRequest ends the named session and is answered', async () => {
    const browser = await signedIn(f.okta, 'ivy@example.com', '_ivy');
    const query = f.okta.idp.logoutRequestQuery({
      sloUrl: f.okta.sp.sloUrl,
      nameId: 'ivy@example.com',
      sessionIndex: '_ivy',
      destination: f.okta.sp.sloUrl,
    });
    const res = await new Browser(f.app()).get(`${pathOf(f.okta.sp.sloUrl)}?${query}`);
    expect(res.status).toBe(302);
    expect(String(res.headers.location).startsWith(f.okta.idp.sloUrl)).toBe(true);
    expect(
      f.okta.idp.readAuthnRequest(
        String(res.headers.location).replace('SAMLResponse=', 'SAMLRequest='),
      ).xml,
    ).toContain('LogoutResponse');
    expect((await browser.whoami()).status).toBe(401);
  });

  it('refuses an unsigned or foreign-signed logout message, ending nothing', async () => {
    const browser = await signedIn(f.okta, 'uma@example.com', '_uma');
    const signed = new URLSearchParams(
      f.okta.idp.logoutRequestQuery({
        sloUrl: f.okta.sp.sloUrl,
        nameId: 'uma@example.com',
        destination: f.okta.sp.sloUrl,
      }),
    );
    signed.delete('Signature');
    signed.delete('SigAlg');
    const unsigned = await new Browser(f.app()).get(
      `${pathOf(f.okta.sp.sloUrl)}?${signed.toString()}`,
    );
    expect(unsigned.status).toBe(400);
    // Signed by the other IdP's key.
    const foreign = f.entra.idp.logoutRequestQuery({
      sloUrl: f.okta.sp.sloUrl,
      nameId: 'uma@example.com',
      destination: f.okta.sp.sloUrl,
    });
    const refused = await new Browser(f.app()).get(`${pathOf(f.okta.sp.sloUrl)}?${foreign}`);
    expect(refused.status).toBe(400);
    expect((await browser.whoami()).status).toBe(200);
  });

  it('local logout without a session shows the signed-out page with the sign-in links', async () => {
    const res = await new Browser(f.app()).post('/saml/acme/logout', {});
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are not signed in');
    expect(res.text).toContain(pathOf(f.okta.sp.loginUrl));
  });
});

/** The number of live sessions of the tenant. */
const sessionCount = async () =>
  Number(
    (
      await f.database.db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const clearsSession = (res: { headers: Record<string, unknown> }) =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).some(
    (line) => line.startsWith('roster_session=;') && /Path=\/saml\/acme/.test(line),
  );

describe('a sign-out always signs out', () => {
  const refusedReturnTo = `?returnTo=${encodeURIComponent('https://evil.example/phish')}`;

  it('with a returnTo that is not allowed: ends the session, then says the address was refused', async () => {
    const browser = await signedIn(plain, 'rita@example.com', '_rita');
    const cookie = String(browser.cookies.get('roster_session'));
    const before = await sessionCount();
    const out = await browser.get(`/saml/acme/logout${refusedReturnTo}`);
    expect(out.status).toBe(400);
    expect(out.headers.location).toBeUndefined();
    expect(out.text).toContain('You are signed out');
    expect(out.text).toContain('The address to return to after sign-out is not allowed');
    expect(out.text).not.toContain('evil.example');
    expect(clearsSession(out)).toBe(true);
    expect(await sessionCount()).toBe(before - 1);
    // The old cookie is worth nothing now.
    browser.cookies.set('roster_session', cookie);
    expect((await browser.whoami()).status).toBe(401);
  });

  it('with a returnTo over 2048 characters: ends the session, then names the limit', async () => {
    const browser = await signedIn(plain, 'ros@example.com', '_ros');
    const long = `${APP_ORIGIN}/${'a'.repeat(2048)}`;
    const out = await browser.get(`/saml/acme/logout?returnTo=${encodeURIComponent(long)}`);
    expect(out.status).toBe(400);
    expect(out.text).toContain(
      'You are signed out. The address to return to after sign-out is longer than 2048 characters.',
    );
    expect(clearsSession(out)).toBe(true);
    expect((await browser.whoami()).status).toBe(401);
  });

  it('the same by POST, and as JSON for a client that asks for JSON', async () => {
    const browser = await signedIn(plain, 'rex@example.com', '_rex');
    const out = await browser.post(`/saml/acme/logout${refusedReturnTo}`, {}, 'application/json');
    expect(out.status).toBe(400);
    expect(out.body.error).toMatchObject({ code: 'ReturnToNotAllowed' });
    expect(out.body.error.message).toMatch(/^You are signed out\./);
    expect(clearsSession(out)).toBe(true);
    expect((await browser.whoami()).status).toBe(401);
  });

  it('with single logout at the IdP: goes on to the IdP, and comes back to a page that says so', async () => {
    const browser = await signedIn(f.okta, 'sol@example.com', '_sol');
    const out = await browser.get(`/saml/acme/logout${refusedReturnTo}`);
    expect(out.status).toBe(303);
    const location = String(out.headers.location);
    expect(location.startsWith(f.okta.idp.sloUrl)).toBe(true);
    expect(clearsSession(out)).toBe(true);
    expect((await browser.whoami()).status).toBe(401);
    const logoutRequest = f.okta.idp.readAuthnRequest(location);
    const query = f.okta.idp.logoutResponseQuery({
      inResponseTo: logoutRequest.id,
      destination: f.okta.sp.sloUrl,
    });
    const back = await browser.get(`${pathOf(f.okta.sp.sloUrl)}?${query}`);
    expect(back.status).toBe(303);
    const landing = String(back.headers.location);
    expect(landing).toBe(`${BASE_URL}/saml/acme/?notice=return_to_refused`);
    const page = await browser.get(pathOf(landing));
    expect(page.status).toBe(200);
    expect(page.text).toContain('You are not signed in');
    expect(page.text).toContain('The address to return to after sign-out is not allowed');
    // Only the notices Roster has: nothing else in `?notice=` reaches the page.
    for (const notice of ['__proto__', 'toString', '<b>hi</b>']) {
      const other = await browser.get(`/saml/acme/?notice=${encodeURIComponent(notice)}`);
      expect(other.status).toBe(200);
      expect(other.text).not.toContain('id="notice"');
      expect(other.text).not.toContain('<b>hi');
    }
  });

  it('a logout message that cannot be verified still ends the session of the browser that brings it', async () => {
    const browser = await signedIn(f.okta, 'una@example.com', '_una');
    const before = await sessionCount();
    const unsigned = new URLSearchParams(
      f.okta.idp.logoutRequestQuery({
        sloUrl: f.okta.sp.sloUrl,
        nameId: 'una@example.com',
        destination: f.okta.sp.sloUrl,
      }),
    );
    unsigned.delete('Signature');
    const res = await browser.get(`${pathOf(f.okta.sp.sloUrl)}?${unsigned.toString()}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('<title>Sign-out failed</title>');
    expect(res.text).toContain('The sign-out message is not signed by your identity provider.');
    expect(res.text).toContain('You are signed out of Roster here');
    expect(clearsSession(res)).toBe(true);
    expect(await sessionCount()).toBe(before - 1);
    expect((await browser.whoami()).status).toBe(401);
  });
});
