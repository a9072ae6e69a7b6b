/* global console, performance, process */
// oidc.backchannel-logout: how long after SCIM answers a PATCH `active: false` the app that the
// person signed in to over OpenID Connect receives its back-channel logout token. Real SCIM and
// SSO apps over HTTP, openid-client as the app, the test SAML IdP, and the delivery worker as
// `npm start` runs it (woken by LISTEN/NOTIFY at the commit, polling every second besides). Each run: SCIM creates the person, they sign in to the app, SCIM
// deactivates them; the time from the PATCH's answer to the token's arrival is one sample. The
// reference is the PATCH's own round trip in the same runs.
import { createServer } from 'node:http';
import * as client from 'openid-client';
import {
  addOidcApp,
  BACKCHANNEL_LOGOUT_DELIVERY,
  backchannelLogoutRenderer,
  createLogger,
  createSamlIdp,
  createScimToken,
  createTenant,
  DELIVERIES_CHANNEL,
  DELIVERY_POLL_INTERVAL_MS,
  migrateToLatest,
  openDatabase,
  outboundPolicyFrom,
  startDeliveryWorker,
  systemClock,
  tenantIssuerUrl,
} from '@roster/core';
import { createLifecycle, listen } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { createSsoApp } from '@roster/sso';
import { TestIdp } from '@roster/sso/testing';
import {
  APP_CALLBACK,
  finishAppSignIn,
  FlowBrowser,
  signInThroughIdp,
  startAppSignIn,
} from '@roster/sso/testing/oidc';
import { BENCH_SCIM_CONFIG } from './lib/scim-config.js';

const SCIM_JSON = 'application/scim+json';

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function oidcBackchannelLogout({ quick, report }) {
  const runs = quick ? 20 : 100;
  const database = process.env.DATABASE_URL
    ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL, poolMax: 10 })
    : await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const runtime = {
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
  };
  const scim = await listen(
    createScimApp({ ...runtime, baseUrl: 'http://localhost', config: BENCH_SCIM_CONFIG }),
    '127.0.0.1',
    0,
  );
  // The SSO app needs its own URL before it exists: listen first, then build it.
  let ssoApp;
  const ssoServer = createServer((req, res) => ssoApp(req, res));
  await new Promise((resolve) => ssoServer.listen(0, '127.0.0.1', resolve));
  const ssoUrl = `http://localhost:${ssoServer.address().port}`;
  ssoApp = createSsoApp({ ...runtime, baseUrl: ssoUrl });

  // The app's back-channel endpoint notes when each person's token arrives.
  const arrivals = new Map();
  const appServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const sub = JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}',
      ).sub;
      arrivals.get(sub)?.(performance.now());
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => appServer.listen(0, '127.0.0.1', resolve));

  const slug = `bench-bcl-${Date.now().toString(36)}`;
  const ctx = { actor: { type: 'system' } };
  const tenant = await createTenant(database.db, slug, ctx);
  const { token } = await createScimToken(database.db, slug, { expiresAt: null }, ctx, systemClock);
  const idp = await TestIdp.create({ entityId: `https://idp.bench.test/${slug}` });
  await createSamlIdp(
    database.db,
    tenant.id,
    { xml: idp.metadataXml() },
    { name: 'bench', preset: 'okta' },
    ctx,
    systemClock,
  );
  const { app, clientSecret } = await addOidcApp(
    database.db,
    tenant.id,
    {
      name: 'Bench app',
      redirectUris: [APP_CALLBACK],
      backchannelLogoutUri: `http://127.0.0.1:${appServer.address().port}/logout`,
    },
    ctx,
  );
  const config = await client.discovery(
    new URL(tenantIssuerUrl(ssoUrl, slug)),
    app.clientId,
    undefined,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  );
  const worker = startDeliveryWorker(database.db, {
    renderers: { [BACKCHANNEL_LOGOUT_DELIVERY]: backchannelLogoutRenderer(database.db, ssoUrl) },
    policy: outboundPolicyFrom('127.0.0.1/32'),
    clock: systemClock,
    logger: runtime.logger,
    intervalMs: DELIVERY_POLL_INTERVAL_MS,
  });
  // As in `npm start`: a commit that queued a delivery wakes the worker.
  const unlisten = await database.listen(DELIVERIES_CHANNEL, () => worker.wake());

  const scimUrl = `http://127.0.0.1:${scim.address().port}/scim/v2/${slug}`;
  const scimRequest = async (method, path, body) => {
    const res = await fetch(`${scimUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': SCIM_JSON },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`SCIM ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const latencies = [];
  const patchTimes = [];
  for (let i = 0; i < runs; i++) {
    const userName = `bcl-${i}@bench.test`;
    const user = await scimRequest('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      active: true,
      emails: [{ value: userName, primary: true }],
    });
    const pending = await startAppSignIn(config);
    const end = await signInThroughIdp(
      { baseUrl: ssoUrl, idp },
      new FlowBrowser(),
      pending.authorizationUrl,
      {
        nameId: userName,
      },
    );
    await finishAppSignIn(config, pending, end.url);
    const arrived = new Promise((resolve) => arrivals.set(user.id, resolve));
    const sent = performance.now();
    await scimRequest('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    const answered = performance.now();
    const at = await arrived;
    patchTimes.push(answered - sent);
    latencies.push(at - answered);
  }

  await unlisten();
  await worker.stop();
  for (const server of [scim, ssoServer, appServer]) {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
  await database.db.deleteFrom('tenants').where('slug', '=', slug).execute();
  await database.close();

  latencies.sort((a, b) => a - b);
  patchTimes.sort((a, b) => a - b);
  console.log(
    `  oidc.backchannel-logout: ${runs} runs, worker woken at commit (poll every ${DELIVERY_POLL_INTERVAL_MS} ms besides); from the SCIM answer to the token's arrival: p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${percentile(latencies, 0.95).toFixed(0)} ms, max ${latencies.at(-1).toFixed(0)} ms`,
  );
  const patchP50 = percentile(patchTimes, 0.5);
  report(
    `oidc.backchannel-logout.p50.${database.engine}`,
    percentile(latencies, 0.5),
    'ms',
    patchP50,
    'SCIM PATCH p50',
  );
  report(
    `oidc.backchannel-logout.p95.${database.engine}`,
    percentile(latencies, 0.95),
    'ms',
    patchP50,
    'SCIM PATCH p50',
  );
}
