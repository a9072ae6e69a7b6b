// When a Roster session ends (here: an operator deactivates the person), every app signed in
// through it receives an OpenID Connect Back-Channel Logout token at its registered URI, from the
// delivery queue: verified here with jose against the provider's JWKS. An app that fails first
// gets the notice again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKCHANNEL_LOGOUT_DELIVERY,
  backchannelLogoutRenderer,
  createLogger,
  deactivateUser,
  outboundPolicyFrom,
  startDeliveryWorker,
  systemClock,
  type DeliveryWorker,
} from '@roster/core';
import {
  APP_CALLBACK,
  finishAppSignIn,
  FlowBrowser,
  present,
  signInThroughIdp,
  startAppSignIn,
  startOidcStack,
  type OidcStack,
} from './support/oidc-flow.js';

const operator = { actor: { type: 'operator' as const, id: 'test' } };

/** The app's back-channel endpoint: what it received, and how it answers next. */
const received: { token: string; contentType: string }[] = [];
let failuresToAnswer = 0;
let appServer: Server;
let stack: OidcStack;
let worker: DeliveryWorker;

beforeAll(async () => {
  appServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (failuresToAnswer > 0) {
        failuresToAnswer -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push({
        token: new URLSearchParams(body).get('logout_token') ?? '',
        contentType: String(req.headers['content-type']),
      });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  const port = (appServer.address() as AddressInfo).port;
  stack = await startOidcStack({ backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
  worker = startDeliveryWorker(stack.database.db, {
    renderers: {
      [BACKCHANNEL_LOGOUT_DELIVERY]: backchannelLogoutRenderer(stack.database.db, stack.baseUrl),
    },
    // The app is on loopback: allowed here as an operator would with ROSTER_OUTBOUND_ALLOW_HOSTS.
    policy: outboundPolicyFrom('127.0.0.1/32'),
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    intervalMs: 20,
    random: () => 0,
  });
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await new Promise((resolve) => appServer?.close(resolve));
});

/** Waits (bounded) until the app has received `count` notices. */
async function noticesArrive(count: number) {
  for (let i = 0; i < 500 && received.length < count; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(received.length).toBe(count);
}

async function signIn(nameId: string, browser = new FlowBrowser()) {
  const pending = await startAppSignIn(stack.client);
  const end = await signInThroughIdp(stack, browser, pending.authorizationUrl, {
    nameId,
    attributes: { email: nameId },
  });
  return { tokens: await finishAppSignIn(stack.client, pending, end.url), browser };
}

describe('back-channel logout', () => {
  it('tells the app when the person is deactivated, with a token it can verify', async () => {
    const { tokens, browser } = await signIn('ann@example.com');
    const idToken = present(tokens.claims(), 'ID token claims');
    await deactivateUser(stack.database.db, stack.tenant.id, idToken.sub, operator, systemClock);
    await noticesArrive(1);
    const notice = present(received[0], 'a notice');
    expect(notice.contentType).toBe('application/x-www-form-urlencoded');
    const { payload, protectedHeader } = await jose.jwtVerify(
      notice.token,
      jose.createRemoteJWKSet(new URL(present(stack.client.serverMetadata().jwks_uri, 'jwks_uri'))),
      { issuer: stack.issuer, audience: stack.app.clientId, typ: 'logout+jwt', maxTokenAge: 300 },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe(idToken.sub);
    expect(payload.sid).toBe(idToken.sid);
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload).not.toHaveProperty('nonce');

    // And the next authorize in the same browser is not answered with a code.
    const again = await startAppSignIn(stack.client);
    const end = await signInThroughIdp(stack, browser, again.authorizationUrl, {
      nameId: 'ann@example.com',
    });
    expect(end.url.startsWith(APP_CALLBACK)).toBe(false);
    expect(end.response?.status).toBe(403);
  });

  it('sends the notice again when the app failed to take it', async () => {
    received.length = 0;
    failuresToAnswer = 1;
    const { tokens } = await signIn('bob@example.com');
    await deactivateUser(
      stack.database.db,
      stack.tenant.id,
      present(tokens.claims(), 'ID token claims').sub,
      operator,
      systemClock,
    );
    // The first attempt got a 503; the retry comes after the first backoff (about 5 s at most).
    for (let i = 0; i < 600 && received.length < 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(failuresToAnswer).toBe(0);
    await noticesArrive(1);
  }, 30_000);
});
