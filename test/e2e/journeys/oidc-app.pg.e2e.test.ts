// Journey: an app signs people in through Roster over OpenID Connect (openid-client as the app,
// the test SAML IdP behind Roster). The person arrives just in time, SCIM adopts them with the
// same id (the ID token's `sub` does not change), then SCIM deactivates them: the app's
// back-channel endpoint receives a logout token it verifies with jose against the JWKS, and the
// app's next authorize gets no code.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addOidcApp,
  BACKCHANNEL_LOGOUT_DELIVERY,
  backchannelLogoutRenderer,
  createLogger,
  outboundPolicyFrom,
  startDeliveryWorker,
  systemClock,
  tenantIssuerUrl,
  type DeliveryWorker,
} from '@roster/core';
import {
  APP_CALLBACK,
  finishAppSignIn,
  FlowBrowser,
  present,
  signInThroughIdp,
  startAppSignIn,
} from '@roster/sso/testing/oidc';
import {
  PATCH_SCHEMA,
  scimUser,
  startJourneyStack,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

const operator = { actor: { type: 'operator' as const, id: 'journeys' } };

let stack: JourneyStack;
let acme: JourneyTenant;
let config: client.Configuration;
let worker: DeliveryWorker;
let appServer: Server;
const logoutTokens: string[] = [];

beforeAll(async () => {
  stack = await startJourneyStack();
  acme = await stack.tenant('journey-oidc');
  appServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  const { app, clientSecret } = await addOidcApp(
    stack.database.db,
    acme.tenant.id,
    {
      name: 'Billing',
      redirectUris: [APP_CALLBACK],
      backchannelLogoutUri: `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/logout`,
    },
    operator,
  );
  config = await client.discovery(
    new URL(tenantIssuerUrl(stack.ssoUrl, acme.slug)),
    app.clientId,
    undefined,
    client.ClientSecretBasic(present(clientSecret, 'the client secret')),
    { execute: [client.allowInsecureRequests] },
  );
  worker = startDeliveryWorker(stack.database.db, {
    renderers: {
      [BACKCHANNEL_LOGOUT_DELIVERY]: backchannelLogoutRenderer(stack.database.db, stack.ssoUrl),
    },
    policy: outboundPolicyFrom('127.0.0.1/32'),
    // Queued at the database's time (a session's end knows no clock): the worker reads real time.
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    intervalMs: 20,
  });
});
afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => appServer?.close(resolve));
  await stack?.close();
});

const nameId = 'erin@journey-oidc.example';
const idp = () => ({ baseUrl: stack.ssoUrl, idp: acme.idp });

async function appSignIn(browser: FlowBrowser) {
  const pending = await startAppSignIn(config);
  const end = await signInThroughIdp(idp(), browser, pending.authorizationUrl, {
    nameId,
    attributes: { 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': nameId },
  });
  return { pending, end };
}

describe('journey: an app signs people in through Roster over OpenID Connect', () => {
  it('keeps sub through adoption, and logs the app out when SCIM deactivates the person', async () => {
    const browser = new FlowBrowser();
    const first = await appSignIn(browser);
    const jit = present(
      (await finishAppSignIn(config, first.pending, first.end.url)).claims(),
      'claims',
    );

    const adopted = await acme.scim.post('/Users', scimUser(nameId));
    expect(adopted.status).toBe(201);
    expect(adopted.body.id).toBe(jit.sub);

    const second = await appSignIn(browser);
    const tokens = await finishAppSignIn(config, second.pending, second.end.url);
    const claims = present(tokens.claims(), 'claims');
    expect(claims.sub).toBe(jit.sub);

    const deactivated = await acme.scim.patch(`/Users/${String(adopted.body.id)}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(deactivated.status).toBe(200);

    for (let i = 0; i < 500 && logoutTokens.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logoutTokens.length).toBeGreaterThanOrEqual(1);
    const jwks = jose.createRemoteJWKSet(
      new URL(present(config.serverMetadata().jwks_uri, 'jwks_uri')),
    );
    const verified = await Promise.all(
      logoutTokens.map((token) =>
        jose.jwtVerify(token, jwks, {
          issuer: config.serverMetadata().issuer,
          audience: config.clientMetadata().client_id,
          typ: 'logout+jwt',
        }),
      ),
    );
    expect(verified.map((v) => v.payload.sub)).toContain(claims.sub);
    expect(verified.map((v) => v.payload.sid)).toContain(claims.sid);

    const third = await appSignIn(browser);
    expect(third.end.url.startsWith(APP_CALLBACK)).toBe(false);
    expect(third.end.response?.status).toBe(403);
  });
});
