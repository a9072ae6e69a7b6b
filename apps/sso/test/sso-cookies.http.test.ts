// What Roster's cookies are for each kind of SSO_BASE_URL. The IdP posts to the ACS from another
// site, so the cookies the ACS reads must be SameSite=None, which needs Secure: under https, and
// on plain http to a loopback host (browsers accept Secure cookies from there). On plain http
// anywhere else they cannot be, and Roster says so at start and on the refusal page.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createSamlIdp,
  createTenant,
  serviceProviderUrls,
  systemClock,
  type SamlIdp,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createSsoApp } from '../src/index.js';
import { TestIdp, toPostBinding } from '../src/testing/test-idp.js';
import { pathOf } from './support/sso-fixture.js';

let database: TestDatabase;
let idp: TestIdp;
let idpConfig: SamlIdp;
beforeAll(async () => {
  database = await createTestDatabase();
  const operator = { actor: { type: 'operator' as const, id: 'test' } };
  const tenant = await createTenant(database.db, 'acme', operator);
  idp = await TestIdp.create({ entityId: 'http://www.okta.com/exk-cookies' });
  idpConfig = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: idp.metadataXml() },
    { name: 'okta', preset: 'okta' },
    operator,
    systemClock,
  );
});
afterAll(() => database.close());

/** The SSO app on `baseUrl`, with the warnings it logs while it is built. */
function appOn(baseUrl: string) {
  const lines: { level: number; msg: string; ssoBaseUrl?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as (typeof lines)[number]);
      done();
    },
  });
  const app = createSsoApp({
    database,
    logger: createLogger({ level: 'warn', destination }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl,
  });
  return { app, warnings: lines, sp: serviceProviderUrls(baseUrl, 'acme', idpConfig.id) };
}

const setCookie = (res: request.Response, name: string): string =>
  ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).find((line) =>
    line.startsWith(`${name}=`),
  ) ?? '';

/** An SP-initiated sign-in whose ACS post carries only the cookies `keep` lets through. */
async function signIn(
  app: ReturnType<typeof appOn>,
  keep: (cookie: string) => boolean,
): Promise<{ login: request.Response; acs: request.Response }> {
  const login = await request(app.app).get(pathOf(app.sp.loginUrl));
  expect(login.status).toBe(302);
  const authnRequest = idp.readAuthnRequest(String(login.headers.location));
  const { xml } = await idp.response({
    acsUrl: app.sp.acsUrl,
    audience: app.sp.entityId,
    inResponseTo: authnRequest.id,
    nameId: 'cy@example.com',
  });
  const loginCookie = setCookie(login, 'roster_login');
  const acs = await request(app.app)
    .post(pathOf(app.sp.acsUrl))
    .type('form')
    .set('accept', 'text/html')
    .set('cookie', keep(loginCookie) ? (loginCookie.split(';')[0] ?? '') : '')
    .send({ SAMLResponse: toPostBinding(xml) });
  return { login, acs };
}

const crossSite = (cookie: string) => /SameSite=None/i.test(cookie) && /;\s*Secure/i.test(cookie);

describe('cookies that the IdP’s cross-site POST must carry', () => {
  it.each([
    'https://sso.example.test',
    'http://localhost:8081',
    'http://roster.localhost:8081',
    'http://127.0.0.1:8081',
    'http://[::1]:8081',
  ])('on %s are SameSite=None; Secure, and sign-in works', async (baseUrl) => {
    const app = appOn(baseUrl);
    expect(app.warnings).toEqual([]);
    // A browser sends across sites only what is SameSite=None; Secure.
    const { login, acs } = await signIn(app, crossSite);
    expect(setCookie(login, 'roster_login')).toMatch(/HttpOnly/);
    expect(crossSite(setCookie(login, 'roster_login'))).toBe(true);
    expect(acs.status, acs.text).toBe(303);
    const session = setCookie(acs, 'roster_session');
    expect(session).toMatch(/HttpOnly/);
    expect(crossSite(session)).toBe(true);
  });

  it.each(['http://sso.example.test:8081', 'http://10.1.2.3:8081', 'http://127.example.test'])(
    'on %s cannot be: a warning at start naming SSO_BASE_URL, and the refusal page says why',
    async (baseUrl) => {
      const app = appOn(baseUrl);
      expect(app.warnings).toHaveLength(1);
      expect(app.warnings[0]).toMatchObject({ level: 40, ssoBaseUrl: baseUrl });
      expect(app.warnings[0]?.msg).toContain(`SSO_BASE_URL (${baseUrl}) is plain http`);
      const { login, acs } = await signIn(app, crossSite);
      const loginCookie = setCookie(login, 'roster_login');
      expect(loginCookie).toMatch(/SameSite=Lax/);
      expect(loginCookie).not.toMatch(/Secure/);
      expect(acs.status).toBe(401);
      expect(acs.text).toContain('This browser did not start the sign-in');
      expect(acs.text).toContain(
        'Roster is served over plain http (SSO_BASE_URL), so browsers do not send its sign-in cookie back from an identity provider on another site.',
      );
      expect(setCookie(acs, 'roster_session')).toBe('');
      // With an IdP on the same site the browser does send it, and sign-in works.
      expect((await signIn(app, () => true)).acs.status).toBe(303);
    },
  );

  it('does not blame plain http on the refusal page where cookies can cross sites', async () => {
    const { acs } = await signIn(appOn('http://localhost:8081'), () => false);
    expect(acs.status).toBe(401);
    expect(acs.text).toContain('This browser did not start the sign-in');
    expect(acs.text).not.toContain('plain http');
  });
});
