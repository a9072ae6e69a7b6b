// Headless Chromium for browser tests: playwright-core driving the Chromium of @sparticuz/chromium,
// with given host names resolved to 127.0.0.1, so that a test puts Roster, an IdP and an app on
// different sites of one machine and every cookie crosses sites as it does in production.
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Browser } from 'playwright-core';

/** Launches the browser; `hostNames` (and localhost) resolve to 127.0.0.1. */
export async function launchChromium(hostNames: readonly string[]): Promise<Browser> {
  const rules = [...hostNames, 'localhost'].map((host) => `MAP ${host} 127.0.0.1`).join(', ');
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    headless: true,
    args: [
      // One process per browser context: in --single-process mode, closing the first context
      // takes the whole browser down.
      ...chromium.args.filter((arg) => arg !== '--single-process'),
      // No background networking: tests run with the network closed.
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      `--host-resolver-rules=${rules}`,
    ],
  });
}
