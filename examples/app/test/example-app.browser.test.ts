// A person in headless Chromium (playwright-core driving the Chromium of @sparticuz/chromium)
// signs in to the example app through Roster and a SAML IdP, then signs out at Roster. The three
// are on three sites, as in production: the app on http://app.example.test, Roster on
// http://localhost (where browsers keep Roster's cross-site cookies over http), the IdP on
// http://idp.example.test; Chromium resolves both example.test names to 127.0.0.1. So every hop
// of the redirect chain crosses sites and carries only the cookies a browser sends across sites.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deactivateUser, systemClock } from '@roster/core';
import { closeGracefully } from '@roster/http';
import { toPostBinding } from '@roster/sso/testing';
import { launchChromium } from '@roster/sso/testing/chromium';
import { startStack, type Stack } from './support/stack.js';

const APP_HOST = 'app.example.test';
const IDP_HOST = 'idp.example.test';

let stack: Stack;
let idpServer: Server;
let browser: Browser;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

beforeAll(async () => {
  // The IdP's web server: its sign-in page answers Roster's AuthnRequest with a button that
  // posts the signed SAML response to Roster's ACS.
  idpServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${IDP_HOST}`);
    if (url.pathname !== '/sso') {
      res.writeHead(404).end();
      return;
    }
    const request = stack.idp.readAuthnRequest(url.href);
    void stack.idp
      .response({
        acsUrl: request.acsUrl,
        audience: request.issuer,
        inResponseTo: request.id,
        nameId: 'ann@example.com',
        attributes: {
          email: 'ann@example.com',
          firstName: 'Ann',
          lastName: 'Lee',
          displayName: 'Ann Lee',
          groups: ['eng'],
        },
      })
      .then(({ xml }) => {
        res.setHeader('content-type', 'text/html');
        res.end(`<!doctype html><title>Test IdP</title><h1>Test IdP</h1>
<form method="post" action="${escape(request.acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escape(toPostBinding(xml))}">
<button id="continue" type="submit">Sign in as Ann</button></form>`);
      });
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  const idpBase = `http://${IDP_HOST}:${(idpServer.address() as AddressInfo).port}`;
  stack = await startStack({
    appHost: APP_HOST,
    idp: { entityId: `${idpBase}/metadata`, ssoUrl: `${idpBase}/sso` },
  });

  browser = await launchChromium([APP_HOST, IDP_HOST]);
});

afterAll(async () => {
  await browser?.close();
  if (idpServer) await closeGracefully(idpServer, 2_000);
  await stack?.close();
});

describe('a person in a browser, with the app, Roster and the IdP on three sites', () => {
  it('signs in to the app through Roster and the IdP, then signs out at Roster', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const text = async () => (await page.textContent('body')) ?? '';

    await page.goto(stack.appUrl);
    expect(await text()).toContain('You are not signed in.');

    // "Sign in": the app sends the browser to Roster, and Roster on to the IdP.
    await page.click('#sign-in');
    await page.waitForURL((url) => url.hostname === IDP_HOST);
    expect(await page.title()).toBe('Test IdP');

    // At the IdP: its POST to Roster crosses sites, Roster sends the browser back to the app.
    await page.click('#continue');
    await page.waitForURL(`${stack.appUrl}/`);
    expect(await text()).toContain('Signed in as Ann Lee');
    expect(await page.textContent('#claims')).toContain('ann@example.com');
    expect(await page.textContent('#claims')).toContain('eng');

    // "Sign out": Roster asks, on its own page, before it ends the session.
    await page.click('#sign-out');
    await page.waitForURL((url) => url.origin === stack.rosterUrl);
    expect(await text()).toContain('Example app asks to sign you out.');
    await page.click('#logout');
    await page.waitForURL(`${stack.appUrl}/signed-out`);
    expect(await text()).toContain('You have signed out.');
    expect(await text()).toContain('You are not signed in.');

    // Signed out at Roster too: signing in again goes back to the IdP.
    await page.goto(stack.appUrl);
    expect(await text()).toContain('You are not signed in.');
    await page.click('#sign-in');
    await page.waitForURL((url) => url.hostname === IDP_HOST);
    expect(await page.title()).toBe('Test IdP');
    await context.close();
  });

  it('is signed out of the app when Roster ends the session behind it (back-channel logout)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(stack.appUrl);
    await page.click('#sign-in');
    await page.click('#continue');
    await page.waitForURL(`${stack.appUrl}/`);
    expect(await page.textContent('#status')).toContain('Signed in as Ann Lee');

    // Roster ends Ann's session (an operator deactivates her); its logout token reaches the app.
    const user = await stack.database.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', stack.tenant.id)
      .where('user_name', '=', 'ann@example.com')
      .executeTakeFirstOrThrow();
    await deactivateUser(
      stack.database.db,
      stack.tenant.id,
      user.id,
      { actor: { type: 'operator', id: 'example-app-test' } },
      systemClock,
    );
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.textContent('#status');
        },
        { timeout: 10_000, interval: 100 },
      )
      .toContain('You are not signed in.');
    await context.close();
  });
});
