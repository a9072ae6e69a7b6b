/* global console, process, URL */
// oidc.login and oidc.token: an app signing people in through the tenant's OpenID Provider, over
// HTTP against the real SSO app in this process (its main thread, as the server has).
//
// - oidc.login: whole sign-ins per second (authorize → interaction → SAML login → the IdP's
//   signed response → ACS → resume → code → token exchange), each in a fresh browser, by users
//   who signed in before, beside the SAML-only SP-initiated sign-in (login → the IdP's response
//   → ACS → 303) of the same users, in alternating slices. Goal: ratio >= 0.8.
// - oidc.token: code exchanges per second at the token endpoint (codes prepared untimed by whole
//   flows before each slice: a code lives 60 s), beside an express hello in alternating slices.
//
// The load generator (oidc-client.js) runs on worker threads and plays the IdP: both sign-ins pay
// its signing of the SAMLResponse alike, on threads other than the server's.
import { request } from 'node:http';
import { Worker } from 'node:worker_threads';
import {
  addOidcApp,
  createLogger,
  migrateToLatest,
  openDatabase,
  systemClock,
  tenantIssuerUrl,
} from '@roster/core';
import { createLifecycle, listen } from '@roster/http';
import { createSsoApp } from '@roster/sso';
import { startHelloServer } from './scim/environment.js';
import { GROUPS, idpIdentity, setUpSsoBench } from './sso-login.js';

/** Whole OpenID Connect sign-ins at least this share of SAML-only sign-ins. */
export const OIDC_LOGIN_GOAL = { min: 0.8 };

/** The SSO app's public base URL; requests go to its loopback port with this Host. */
const BASE_URL = 'https://sso.bench.test';
const CALLBACK = 'https://app.bench.test/callback';
/** Codes prepared for one oidc.token slice at most, and for at most this long: a code must be
 * redeemed within 60 s of its issue (OIDC_TTL.AuthorizationCode). */
const MAX_CODES_PER_SLICE = 1500;
const MAX_CODE_PREPARATION_SECONDS = 40;

/** GET `path` on the loopback `port` with the public Host; resolves to the parsed JSON. */
function getJson(port, path) {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host: new URL(BASE_URL).host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`${path} answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The load generator: `threads` worker threads sharing `clients` closed loops between them. */
function startGenerator({ threads, clients, ...shared }) {
  const workers = Array.from(
    { length: threads },
    (_, thread) =>
      new Worker(new URL('./oidc-client.js', import.meta.url), {
        workerData: { ...shared, thread, threads, clients: Math.ceil(clients / threads) },
      }),
  );
  const ask = (worker, message) =>
    new Promise((resolve, reject) => {
      const onError = (error) => reject(error);
      worker.once('error', onError);
      worker.once('message', (answer) => {
        worker.off('error', onError);
        if (answer.error) reject(new Error(answer.error));
        else resolve(answer);
      });
      worker.postMessage(message);
    });
  return {
    /**
     * One run of `mode` on every thread at once for `seconds` (or `limit` iterations in all):
     * { done, ms, codes } with ms the wall time of the slowest thread.
     */
    async run(mode, { seconds = 3_600, limit = Infinity, items = [] } = {}) {
      const share = Math.ceil(limit / threads);
      const answers = await Promise.all(
        workers.map((worker, t) =>
          ask(worker, {
            mode,
            seconds,
            limit: share,
            items: items.filter((_, i) => i % threads === t),
          }),
        ),
      );
      return {
        done: answers.reduce((sum, a) => sum + a.done, 0),
        ms: Math.max(...answers.map((a) => a.ms)),
        codes: answers.flatMap((a) => a.codes),
      };
    },
    async close() {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise((resolve) => {
              worker.once('exit', resolve);
              worker.postMessage({ mode: 'close' });
            }),
        ),
      );
    },
  };
}

/**
 * Rates of `modes` in `rounds` alternating slices of seconds/rounds (a, b, a, b, …), so that a
 * busy neighbour weighs on every figure alike. Untimed: `before(mode)` ahead of a slice and
 * `after(mode, slice)` behind it; `items(mode)` are what a slice's iterations use.
 */
async function alternating(generator, modes, { seconds, rounds = 4, before, items, after }) {
  const done = modes.map(() => 0);
  const ms = modes.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (const [index, mode] of modes.entries()) {
      await before?.(mode);
      const slice = await generator.run(mode, { seconds: seconds / rounds, items: items?.(mode) });
      after?.(mode, slice);
      done[index] += slice.done;
      ms[index] += slice.ms;
    }
  }
  return modes.map((_, index) => done[index] / (ms[index] / 1000));
}

/**
 * The world of an OIDC bench on `database`: the SSO bench's tenant and IdP, and one confidential
 * app registered there; `startGenerator` starts the load generator against an SSO app (base URL
 * BASE_URL) listening on `port`.
 */
export async function setUpOidcBench(database) {
  const bench = await setUpSsoBench(database);
  const { app, clientSecret } = await addOidcApp(
    database.db,
    bench.tenant.id,
    { name: 'Bench app', redirectUris: [CALLBACK] },
    { actor: { type: 'system' } },
  );
  return {
    bench,
    async startGenerator({ port, helloPort = 0, users, threads = 2, clients = 4 }) {
      const issuer = new URL(tenantIssuerUrl(BASE_URL, bench.slug));
      const discovery = await getJson(port, `${issuer.pathname}/.well-known/openid-configuration`);
      return startGenerator({
        threads,
        clients,
        port,
        helloPort,
        baseUrl: BASE_URL,
        ...idpIdentity(bench),
        groups: GROUPS,
        users,
        loginUrl: bench.sp.loginUrl,
        authorizationEndpoint: discovery.authorization_endpoint,
        tokenEndpoint: discovery.token_endpoint,
        clientId: app.clientId,
        clientSecret,
        redirectUri: CALLBACK,
      });
    },
    remove: () => bench.remove(),
  };
}

export async function oidcBench({ quick, seconds, report, clients = 4, threads = 2 }) {
  const database = process.env.DATABASE_URL
    ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL, poolMax: 10 })
    : await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const world = await setUpOidcBench(database);
  const hello = await startHelloServer();
  const sso = createSsoApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: BASE_URL,
  });
  const server = await listen(sso, '127.0.0.1', 0);
  const port = server.address().port;
  const users = quick ? 100 : 200;
  const generator = await world.startGenerator({
    port,
    helloPort: hello.port,
    users,
    threads,
    clients,
  });
  try {
    // Every user signs in once first (JIT-created), untimed; then a warm-up of the whole flow.
    await generator.run('saml', { limit: users });
    await generator.run('oidc', { limit: 20 });
    const [samlRate, oidcRate] = await alternating(generator, ['saml', 'oidc'], { seconds });
    report(
      `oidc.login.${database.engine}`,
      oidcRate,
      'ops/s',
      samlRate,
      'SAML-only sign-in',
      OIDC_LOGIN_GOAL,
    );

    // Codes for each token slice, prepared by whole flows just before it (untimed): as many as
    // the last slice redeemed and half again, at least `leastCodes` (a slice that runs out of
    // codes ends early; its rate stands).
    let codes = [];
    const leastCodes = quick ? 30 : 100;
    let wanted = quick ? 60 : 200;
    await generator.run('hello', { limit: 20 });
    const [helloRate, tokenRate] = await alternating(generator, ['hello', 'token'], {
      seconds,
      before: async (mode) => {
        if (mode === 'token')
          codes = (
            await generator.run('codes', { limit: wanted, seconds: MAX_CODE_PREPARATION_SECONDS })
          ).codes;
      },
      items: (mode) => (mode === 'token' ? codes : []),
      after: (mode, slice) => {
        if (mode !== 'token') return;
        if (slice.done >= codes.length)
          console.log(`  oidc.token: a slice used all ${codes.length} codes`);
        wanted = Math.min(MAX_CODES_PER_SLICE, Math.max(leastCodes, Math.ceil(slice.done * 1.5)));
      },
    });
    report(`oidc.token.${database.engine}`, tokenRate, 'ops/s', helloRate, 'express hello');
  } finally {
    await generator.close();
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
    await hello.close();
    await world.remove();
    await database.close();
  }
}
