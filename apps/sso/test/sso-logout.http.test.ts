// Local logout, SAML single logout both ways, and the IdP's signature on logout messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  answer,
  Browser,
  createFixture,
  pathOf,
  type Fixture,
} from './support/sso-fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
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
