/* global console, performance, process, URL */
// sso.login: ACS sign-ins per second through the real SSO app over HTTP (signature checks, the
// SP's own checks, request-id and replay tables, core's sign-in with JIT, session), for
// returning users and for new JIT users, beside bare node-saml validation of the same
// responses in the same process (one caller on the main thread: one core, as the server has),
// in alternating slices. The load generator runs on its own thread. Goal: ratio >= 0.85.
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

export const GROUPS = Array.from({ length: 10 }, (_, i) => `group-${i}`);

/** Sign-ins at least this share of bare node-saml validation of the same responses. */
export const SSO_GOAL = { min: 0.85 };

/**
 * The world of an SSO bench on `database`: a tenant with an IdP (a TestIdp signing Response and
 * Assertion, Okta preset), one browser's login cookie, and `prepare(nameOf, n)` which saves n
 * pending AuthnRequests and signs a SAMLResponse answering each (for user `nameOf(i)`).
 */
export async function setUpSsoBench(database) {
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
  const sp = serviceProviderUrls('https://sso.bench.test', slug, config.id);
  const acsPath = new URL(sp.acsUrl).pathname;

  // One browser (login cookie) for all; each response answers its own pending AuthnRequest.
  const browser = randomBytes(32).toString('base64url');
  const binding = createHash('sha256').update(`login:${browser}`, 'utf8').digest();
  const cookie = `roster_login=${browser}`;
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
      items.push({
        nameId,
        samlResponse,
        body: `SAMLResponse=${encodeURIComponent(samlResponse)}`,
      });
    }
    return items;
  }
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
  /** Validates one prepared response with bare node-saml; rejects unless it names the user. */
  const validate = async (item) => {
    const { profile } = await bare.validatePostResponseAsync({ SAMLResponse: item.samlResponse });
    if (profile?.nameID !== item.nameId) {
      throw new Error(`bare node-saml: expected ${item.nameId}, got ${profile?.nameID}`);
    }
  };
  return {
    slug,
    tenant,
    idp,
    idpConfig: config,
    sp,
    acsPath,
    cookie,
    prepare,
    validate,
    /** Sign-ins per kind: enough for `seconds` of ACS load (about 60–100/s here). */
    count: (seconds, quick) => Math.ceil(seconds * (quick ? 150 : 120)),
    async remove() {
      await database.db.deleteFrom('tenants').where('slug', '=', slug).execute();
    },
  };
}

/** The test IdP's signing keys and entity id, for a load generator that plays the IdP. */
export const idpIdentity = (bench) => ({
  idpKeys: { privateKey: bench.idp.keys.privateKey, certificate: bench.idp.keys.certificate },
  idpEntityId: bench.idp.entityId,
});

/** ACS sign-ins per second over `bodies` from a load generator on its own thread (as with wrk). */
export function acsRate({ port, acsPath, cookie, bodies, workers, seconds }) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./acs-client.js', import.meta.url), {
      workerData: { port, path: acsPath, cookie, bodies, workers, seconds },
    });
    worker.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
}

/**
 * Bare validation and ACS sign-ins in `rounds` alternating slices (bare, ACS, bare, …), so that
 * load from elsewhere weighs on both alike. The bare loop may validate an item again; each ACS
 * sign-in uses a prepared response once (replay protection). Returns [bare/s, acs/s].
 */
async function pairedSsoRates(bench, items, { port, seconds, workers, rounds = 4 }) {
  const slice = seconds / rounds;
  let bareDone = 0;
  let bareMs = 0;
  let acsDone = 0;
  let acsMs = 0;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const deadline = started + slice * 1000;
    while (performance.now() < deadline) {
      await bench.validate(items[bareDone % items.length]);
      bareDone++;
    }
    bareMs += performance.now() - started;
    if (acsDone >= items.length) continue;
    const { done, ms } = await acsRate({
      port,
      acsPath: bench.acsPath,
      cookie: bench.cookie,
      bodies: items.slice(acsDone).map((item) => item.body),
      workers,
      seconds: slice,
    });
    acsDone += done;
    acsMs += ms;
  }
  if (acsDone >= items.length) {
    console.log(`  sso.login: all ${items.length} prepared responses used before the time ran out`);
  }
  return [bareDone / (bareMs / 1000), acsDone / (acsMs / 1000)];
}

export async function ssoLogin({ quick, seconds, report, acsWorkers = 4 }) {
  const database = process.env.DATABASE_URL
    ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL, poolMax: 10 })
    : await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const bench = await setUpSsoBench(database);
  const app = createSsoApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://sso.bench.test',
  });
  const server = await listen(app, '127.0.0.1', 0);
  const port = server.address().port;
  const count = bench.count(seconds, quick);
  const users = Math.min(count, 200);

  // The returning users sign in once first (JIT-created), untimed.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const returning = (i) => `returning-${i % users}@example.com`;
  for (const item of await bench.prepare(returning, users)) {
    await postToAcs(agent, port, bench.acsPath, item.body, bench.cookie);
  }
  agent.destroy();
  const returningItems = await bench.prepare(returning, count);
  const jitItems = await bench.prepare((i) => `jit-${i}-${bench.slug}@example.com`, count);
  for (const item of returningItems.slice(0, 10)) await bench.validate(item); // warm-up

  const options = { port, seconds, workers: acsWorkers };
  const [bareReturning, returningRate] = await pairedSsoRates(bench, returningItems, options);
  const [bareJit, jitRate] = await pairedSsoRates(bench, jitItems, options);

  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
  await bench.remove();
  await database.close();
  report(
    `sso.login.returning.${database.engine}`,
    returningRate,
    'ops/s',
    bareReturning,
    'bare node-saml',
    SSO_GOAL,
  );
  report(`sso.login.jit.${database.engine}`, jitRate, 'ops/s', bareJit, 'bare node-saml', SSO_GOAL);
}
