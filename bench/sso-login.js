/* global performance, process, URL */
// sso.login: ACS sign-ins per second through the real SSO app over HTTP (signature checks, the
// SP's own checks, request-id and replay tables, core's sign-in with JIT, session), for
// returning users and for new JIT users, beside bare node-saml validation of the same
// responses in the same process. Goal: ratio >= 0.85.
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Worker } from 'node:worker_threads';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import {
  createLogger,
  createSamlIdp,
  createTenant,
  migrateToLatest,
  openDatabase,
  saveSamlRequestId,
  serviceProviderUrls,
  systemClock,
} from '@roster/core';
import { createLifecycle, listen } from '@roster/http';
import { createSsoApp } from '@roster/sso';
import { postToAcs } from './lib/acs-post.js';
import { TestIdp, toPostBinding } from '@roster/sso/testing';

const GROUPS = Array.from({ length: 10 }, (_, i) => `group-${i}`);

/** ops/s over prepared items: `workers` callers, until the time budget or the items run out. */
async function rateOver(items, op, workers, seconds) {
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && next < items.length) await op(items[next++]);
    }),
  );
  return next / ((performance.now() - started) / 1000);
}

export async function ssoLogin({ quick, seconds, report, acsWorkers = 4 }) {
  const database = process.env.DATABASE_URL
    ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL, poolMax: 10 })
    : await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const slug = `bench-sso-${Date.now().toString(36)}`;
  const ctx = { actor: { type: 'system' } };
  const tenant = await createTenant(database.db, slug, ctx);
  const idp = await TestIdp.create({ entityId: `https://idp.bench.test/${slug}` });
  const config = await createSamlIdp(
    database.db,
    tenant.id,
    { xml: idp.metadataXml() },
    { name: 'bench', preset: 'okta' },
    ctx,
    systemClock,
  );
  const app = createSsoApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://sso.bench.test',
  });
  const server = await listen(app, '127.0.0.1', 0);
  const port = server.address().port;
  const sp = serviceProviderUrls('https://sso.bench.test', slug, config.id);
  const acsPath = new URL(sp.acsUrl).pathname;

  // One browser (login cookie) for all; each response answers its own pending AuthnRequest.
  const browser = randomBytes(32).toString('base64url');
  const binding = createHash('sha256').update(`login:${browser}`, 'utf8').digest();
  const cookie = `roster_login=${browser}`;
  const count = Math.ceil(seconds * (quick ? 150 : 120));
  const users = Math.min(count, 200);
  async function prepare(nameOf, n) {
    const items = [];
    for (let i = 0; i < n; i++) {
      const id = `_bench${randomBytes(12).toString('hex')}`;
      await saveSamlRequestId(
        database.db,
        tenant.id,
        config.id,
        {
          id,
          value: new Date().toISOString(),
          browserBinding: binding,
          expiresAt: new Date(Date.now() + 900_000),
        },
        new Date(),
      );
      const nameId = nameOf(i);
      const { xml } = await idp.response({
        acsUrl: sp.acsUrl,
        audience: sp.entityId,
        inResponseTo: id,
        nameId,
        attributes: { email: nameId, firstName: 'Bench', lastName: `User ${i}`, groups: GROUPS },
      });
      const samlResponse = toPostBinding(xml);
      items.push({ samlResponse, body: `SAMLResponse=${encodeURIComponent(samlResponse)}` });
    }
    return items;
  }
  // A fresh keep-alive agent per phase: the server closes sockets left idle while we sign.
  let agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const freshAgent = () => {
    agent.destroy();
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
  };
  const signIn = (item) => postToAcs(agent, port, acsPath, item.body, cookie);

  // The returning users sign in once first (JIT-created), untimed.
  const returning = (i) => `returning-${i % users}@example.com`;
  for (const item of await prepare(returning, users)) await signIn(item);
  const returningItems = await prepare(returning, count);
  freshAgent();
  const jitItems = await prepare((i) => `jit-${i}-${slug}@example.com`, count);

  // The reference: node-saml alone, the same options, the same responses, no HTTP, no DB.
  const bare = new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    audience: sp.entityId,
    idpCert: [...config.signingCertificates],
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    acceptedClockSkewMs: 60_000,
    maxAssertionAgeMs: 300_000,
    validateInResponseTo: ValidateInResponseTo.never,
  });
  const validate = (item) => bare.validatePostResponseAsync({ SAMLResponse: item.samlResponse });
  for (const item of returningItems.slice(0, 10)) await validate(item); // warm-up
  // The HTTP client runs on its own thread, so the figure is the server's (as with wrk).
  const acsRate = (items) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./acs-client.js', import.meta.url), {
        workerData: {
          port,
          path: acsPath,
          cookie,
          bodies: items.map((item) => item.body),
          workers: acsWorkers,
          seconds,
        },
      });
      worker.once('message', (m) =>
        m.error ? reject(new Error(m.error)) : resolve(m.done / (m.ms / 1000)),
      );
      worker.once('error', reject);
    });
  const bareReturning = await rateOver(returningItems, validate, 1, seconds);
  const returningRate = await acsRate(returningItems);
  const bareJit = await rateOver(jitItems, validate, 1, seconds);
  const jitRate = await acsRate(jitItems);

  agent.destroy();
  await new Promise((resolve) => server.close(resolve));
  await database.db.deleteFrom('tenants').where('slug', '=', slug).execute();
  await database.close();
  report(
    `sso.login.returning.${database.engine}`,
    returningRate,
    'ops/s',
    bareReturning,
    'bare node-saml',
  );
  report(`sso.login.jit.${database.engine}`, jitRate, 'ops/s', bareJit, 'bare node-saml');
}
