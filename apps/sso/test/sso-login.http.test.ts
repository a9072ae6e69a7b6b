import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, updateSamlIdp } from '@roster/core';
import { createTestKeyPair } from '../src/testing/test-idp.js';
import {
  APP_ORIGIN,
  answer,
  Browser,
  createFixture,
  directoryCounts,
  pathOf,
  type Fixture,
} from './support/sso-fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(() => f.database.close());

describe('SP-initiated login against the test IdP', () => {
  it('redirects to the IdP, accepts the signed answer, sets the session cookie and whoami knows the person', async () => {
    const browser = new Browser(f.app());
    const { location, request } = await browser.startLogin(
      f.okta.idp,
      f.okta.sp,
      `${APP_ORIGIN}/home`,
    );
    expect(location.startsWith(f.okta.idp.ssoUrl)).toBe(true);
    expect(request.acsUrl).toBe(f.okta.sp.acsUrl);
    expect(request.issuer).toBe(f.okta.sp.entityId);
    expect(request.xml).not.toContain('RequestedAuthnContext');
    expect(browser.cookies.has('roster_login')).toBe(true);

    const { xml } = await f.okta.idp.response(
      answer(f.okta.sp, request.id, 'ann@example.com', {
        attributes: {
          email: 'ann@example.com',
          firstName: 'Ann',
          lastName: 'Lee',
          groups: ['eng', 'ops'],
        },
      }),
    );
    const acs = await browser.postResponse(f.okta.sp, xml);
    expect(acs.status).toBe(303);
    expect(acs.headers.location).toBe(`${APP_ORIGIN}/home`);
    const cookie = (acs.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('roster_session='),
    );
    expect(cookie).toMatch(/HttpOnly/);
    // SameSite=None: the next login's ACS, a cross-site POST, must see it to end this session.
    expect(cookie).toMatch(/SameSite=None/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\/saml\/acme/);

    const me = await browser.whoami();
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({
      userName: 'ann@example.com',
      givenName: 'Ann',
      familyName: 'Lee',
      emails: ['ann@example.com'],
      groups: ['eng', 'ops'],
    });
    expect(me.body.session.idpId).toBe(f.okta.config.id);
  });

  it('answers whoami with 401 when no one is signed in', async () => {
    const res = await new Browser(f.app()).whoami();
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('Unauthorized');
  });

  it('gives a new session id at every login, ending the previous one', async () => {
    const browser = new Browser(f.app());
    const login = async () => {
      const { request } = await browser.startLogin(f.okta.idp, f.okta.sp);
      const { xml } = await f.okta.idp.response(answer(f.okta.sp, request.id, 'bo@example.com'));
      const res = await browser.postResponse(f.okta.sp, xml);
      expect(res.status).toBe(303);
      return browser.cookies.get('roster_session');
    };
    const first = await login();
    const before = (await directoryCounts(f.database)).sessions;
    const second = await login();
    expect(second).not.toBe(first);
    expect((await directoryCounts(f.database)).sessions).toBe(before);
  });

  it('lands on the plain landing page without returnTo, and logs out', async () => {
    const browser = new Browser(f.app());
    const { request } = await browser.startLogin(f.entra.idp, f.entra.sp);
    const { xml } = await f.entra.idp.response(
      answer(f.entra.sp, request.id, 'cy@example.com', {
        sign: 'assertion',
        attributes: {
          'http://schemas.microsoft.com/identity/claims/displayname': 'Cy Entra',
        },
      }),
    );
    const acs = await browser.postResponse(f.entra.sp, xml);
    expect(acs.status).toBe(303);
    expect(acs.headers.location).toBe(f.entra.sp.landingUrl);
    const landing = await browser.get(pathOf(f.entra.sp.landingUrl));
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('Cy Entra');
    const out = await browser.post('/saml/acme/logout', {});
    // The Entra-like IdP offers single logout: the browser goes there with a LogoutRequest.
    expect(out.status).toBe(303);
    expect(String(out.headers.location).startsWith(f.entra.idp.sloUrl)).toBe(true);
    expect((await browser.whoami()).status).toBe(401);
  });

  it('refuses a returnTo outside the tenant’s allowed origins (no open redirect)', async () => {
    const browser = new Browser(f.app());
    const res = await browser.get(
      `${pathOf(f.okta.sp.loginUrl)}?returnTo=${encodeURIComponent('https://evil.example/x')}`,
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain('not allowed');
    expect(res.text).toContain(String(res.headers['x-request-id']));
  });

  it('refuses a returnTo over 2048 characters naming the limit, writing nothing', async () => {
    const before = await directoryCounts(f.database);
    const browser = new Browser(f.app());
    const long = `${APP_ORIGIN}/${'a'.repeat(2048)}`;
    const res = await browser.get(
      `${pathOf(f.okta.sp.loginUrl)}?returnTo=${encodeURIComponent(long)}`,
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      'The address to return to after sign-in is longer than 2048 characters.',
    );
    expect(browser.cookies.has('roster_login')).toBe(false);
    expect(await directoryCounts(f.database)).toEqual(before);
    const pending = await f.database.db
      .selectFrom('saml_request_ids')
      .select('id')
      .where('return_to', '=', long)
      .execute();
    expect(pending).toEqual([]);
  });

  it('serves SP metadata with the ACS URL and entityID', async () => {
    const res = await new Browser(f.app()).get(pathOf(f.okta.sp.metadataUrl));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/samlmetadata\+xml/);
    expect(res.text).toContain(`entityID="${f.okta.sp.entityId}"`);
    expect(res.text).toContain(`Location="${f.okta.sp.acsUrl}"`);
    expect(res.text).toContain('WantAssertionsSigned="true"');
    // Single logout is offered with the one binding /slo serves: HTTP-Redirect (GET).
    expect(res.text).toContain(
      `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${f.okta.sp.sloUrl}"/>`,
    );
    expect(res.text).not.toMatch(/SingleLogoutService[^>]*HTTP-POST/);
  });

  it('accepts either signing certificate during a rotation, and only the new one after it', async () => {
    const operator = { actor: { type: 'operator' as const, id: 'test' } };
    const next = await createTestKeyPair('test-idp');
    await updateSamlIdp(
      f.database.db,
      f.tenant.id,
      'okta',
      { metadata: { xml: f.okta.idp.metadataXml({ extraCertificates: [next.certificate] }) } },
      operator,
      systemClock,
    );
    for (const signingKey of [f.okta.idp.keys.privateKey, next.privateKey]) {
      const browser = new Browser(f.app());
      const { request } = await browser.startLogin(f.okta.idp, f.okta.sp);
      const { xml } = await f.okta.idp.response(
        answer(f.okta.sp, request.id, 'rot@example.com', { signingKey }),
      );
      expect((await browser.postResponse(f.okta.sp, xml)).status).toBe(303);
    }
    // The IdP drops the old certificate from its metadata: responses signed with it now fail.
    const rotated = f.okta.idp
      .metadataXml()
      .replace(
        /<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/,
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${next.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
      );
    await updateSamlIdp(
      f.database.db,
      f.tenant.id,
      'okta',
      { metadata: { xml: rotated } },
      operator,
      systemClock,
    );
    const browser = new Browser(f.app());
    const { request } = await browser.startLogin(f.okta.idp, f.okta.sp);
    const { xml } = await f.okta.idp.response(answer(f.okta.sp, request.id, 'rot@example.com'));
    expect((await browser.postResponse(f.okta.sp, xml)).status).toBe(401);
    // Put the original certificate back for the other tests.
    await updateSamlIdp(
      f.database.db,
      f.tenant.id,
      'okta',
      { metadata: { xml: f.okta.idp.metadataXml() } },
      operator,
      systemClock,
    );
  });

  it('answers an unknown tenant or IdP with a 404 page', async () => {
    const browser = new Browser(f.app());
    expect((await browser.get('/saml/nope/whatever/login')).status).toBe(404);
    const res = await browser.get('/saml/acme/00000000-0000-4000-8000-000000000000/login');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/html/);
  });
});
