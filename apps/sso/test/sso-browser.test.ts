// A person in headless Chromium (playwright-core driving the Chromium of @sparticuz/chromium)
// signs in through the test IdP, lands signed in, asks whoami, and signs out. As with every real
// IdP, the IdP is on another site than Roster: Roster is on http://localhost (the quick start),
// the IdP on http://idp.example.test, a name Chromium resolves to 127.0.0.1. So the IdP's POST to
// the ACS is cross-site and carries only the cookies a browser sends across sites.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createSamlIdp,
  createTenant,
  serviceProviderUrls,
  systemClock,
  type ServiceProviderUrls,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { closeGracefully, createLifecycle } from '@roster/http';
import { createSsoApp } from '../src/index.js';
import { launchChromium } from '../src/testing/chromium.js';
import { TestIdp, toPostBinding } from '../src/testing/test-idp.js';

let database: TestDatabase;
let roster: Server;
let idpServer: Server;
let browser: Browser;
/** The SP URLs of an IdP without single logout (okta) and of one with it (entra). */
let sp: ServiceProviderUrls;
let sloSp: ServiceProviderUrls;

/** The IdP's host name: another site than localhost, resolved by Chromium to 127.0.0.1. */
const IDP_HOST = 'idp.example.test';

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

beforeAll(async () => {
  database = await createTestDatabase();
  // The IdPs' own little web server: at /<name>/sso a sign-in page answering the AuthnRequest,
  // at /<name>/slo an immediate LogoutResponse to Roster's LogoutRequest.
  const idps = new Map<string, { idp: TestIdp; sp?: ServiceProviderUrls }>();
  idpServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${IDP_HOST}`);
    const [, name = '', endpoint] = url.pathname.split('/');
    const found = idps.get(name);
    if (!found?.sp || (endpoint !== 'sso' && endpoint !== 'slo')) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const { idp, sp: at } = found;
    if (endpoint === 'slo') {
      const logoutRequest = idp.readAuthnRequest(url.toString());
      const query = idp.logoutResponseQuery({
        inResponseTo: logoutRequest.id,
        destination: at.sloUrl,
      });
      res.writeHead(302, { location: `${at.sloUrl}?${query}` }).end();
      return;
    }
    const authnRequest = idp.readAuthnRequest(url.toString());
    void idp
      .response({
        acsUrl: authnRequest.acsUrl,
        audience: authnRequest.issuer,
        inResponseTo: authnRequest.id,
        nameId: 'ann@example.com',
        attributes: { firstName: 'Ann', lastName: 'Lee', displayName: 'Ann Lee' },
      })
      .then(({ xml }) => {
        res.setHeader('content-type', 'text/html');
        res.end(`<!doctype html><title>Test IdP</title><h1>Test IdP</h1>
<form method="post" action="${escape(authnRequest.acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escape(toPostBinding(xml))}">
<button id="continue" type="submit">Sign in as Ann</button></form>`);
      });
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  const idpBase = `http://${IDP_HOST}:${(idpServer.address() as AddressInfo).port}`;
  const idpNamed = async (name: string) => {
    const idp = await TestIdp.create({
      entityId: `${idpBase}/${name}/metadata`,
      ssoUrl: `${idpBase}/${name}/sso`,
      sloUrl: `${idpBase}/${name}/slo`,
    });
    idps.set(name, { idp });
    return idp;
  };
  const okta = await idpNamed('okta');
  const entra = await idpNamed('entra');

  const operator = { actor: { type: 'operator' as const, id: 'test' } };
  const tenant = await createTenant(database.db, 'acme', operator);
  const config = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: okta.metadataXml({ withSlo: false }) },
    { name: 'okta', preset: 'okta' },
    operator,
    systemClock,
  );
  const sloConfig = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: entra.metadataXml() },
    { name: 'entra', preset: 'okta' },
    operator,
    systemClock,
  );
  // Roster's SSO app on a real port; its base URL must be known before it is built.
  roster = createServer();
  await new Promise<void>((resolve) => roster.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://localhost:${(roster.address() as AddressInfo).port}`;
  roster.on(
    'request',
    createSsoApp({
      database,
      logger: createLogger({ level: 'silent' }),
      clock: systemClock,
      lifecycle: createLifecycle(),
      baseUrl,
    }),
  );
  sp = serviceProviderUrls(baseUrl, 'acme', config.id);
  sloSp = serviceProviderUrls(baseUrl, 'acme', sloConfig.id);
  idps.set('okta', { idp: okta, sp });
  idps.set('entra', { idp: entra, sp: sloSp });

  browser = await launchChromium([IDP_HOST]);
});

afterAll(async () => {
  await browser?.close();
  if (roster) await closeGracefully(roster, 2_000);
  if (idpServer) await closeGracefully(idpServer, 2_000);
  await database?.close();
});

describe('a person in a browser', () => {
  it('clicks through the IdP, lands signed in, and signs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(sp.loginUrl);
    expect(await page.title()).toBe('Test IdP');
    expect(new URL(page.url()).hostname).toBe(IDP_HOST);
    // The pre-login cookie must ride on the IdP's cross-site POST: SameSite=None needs Secure,
    // which browsers accept from http://localhost.
    expect((await context.cookies()).find((c) => c.name === 'roster_login')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'None',
    });
    await page.click('#continue');
    await page.waitForURL(sp.landingUrl);
    expect(await page.textContent('#signed-in-as')).toContain('Ann Lee');

    const whoami = await page.request.get(sp.whoamiUrl);
    expect(whoami.status()).toBe(200);
    expect(((await whoami.json()) as { user: { userName: string } }).user.userName).toBe(
      'ann@example.com',
    );
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'roster_session')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'None',
    });

    await page.click('#logout');
    await page.waitForSelector('text=You are not signed in');
    expect((await page.request.get(sp.whoamiUrl)).status()).toBe(401);
    await context.close();
  });

  it('signs in again in the same browser, and the previous session ends', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const signIn = async () => {
      await page.goto(sp.loginUrl);
      await page.click('#continue');
      await page.waitForURL(sp.landingUrl);
      return (await context.cookies()).find((c) => c.name === 'roster_session')?.value;
    };
    const sessionCount = async () =>
      Number(
        (
          await database.db
            .selectFrom('sessions')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await sessionCount();
    const first = await signIn();
    const second = await signIn();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    // The ACS saw the first session's cookie on the IdP's cross-site POST, and ended it.
    expect(await sessionCount()).toBe(before + 1);
    await context.close();
  });

  it('signs out at the IdP too (single logout), and comes back signed out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(sloSp.loginUrl);
    await page.click('#continue');
    await page.waitForURL(sloSp.landingUrl);
    // The sign-out button posts to Roster, which sends the browser on to the IdP's SLO URL
    // (another site); the IdP answers straight back to Roster's SLO endpoint.
    const toIdp = page.waitForRequest((request) => request.url().includes(`${IDP_HOST}:`));
    await page.click('#logout');
    expect(new URL((await toIdp).url()).pathname).toBe('/entra/slo');
    await page.waitForSelector('text=You are not signed in');
    expect(new URL(page.url()).pathname).toBe(new URL(sloSp.sloUrl).pathname);
    expect((await page.request.get(sloSp.whoamiUrl)).status()).toBe(401);
    await context.close();
  });
});
