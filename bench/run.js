// npm run bench [-- --quick]: figures for Roster's hot paths, each beside a reference measured in
// the same run on the same machine, printed and written to bench-results.json as
// [{ name, value, unit, reference, ratio }]. Never asserted in tests. See bench/README.md.
/* global console, process, URL */
import { Agent, request } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import express from 'express';
import { sql } from 'kysely';
import pg from 'pg';
import {
  createLogger,
  createScimToken,
  createTenant,
  migrateToLatest,
  openDatabase,
  systemClock,
} from '@roster/core';
import { createLifecycle, listen } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { BENCH_SCIM_CONFIG } from './lib/scim-config.js';
import { rate as measureRate, pairedRates, Reporter } from './lib/measure.js';
import { benchCreatePglite } from './scim/create-pglite.js';
import { runScimBenchmarks } from './scim/index.js';
import { ssoLogin } from './sso-login.js';
import { oidcBackchannelLogout } from './oidc-backchannel.js';
import { oidcBench } from './oidc-login.js';
import { eventsOrderingCost } from './events-ordering.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 1 : 4;
const concurrency = 8;
// --only=scim (or storage, discovery, sso, oidc, events) runs one part, for iterating on it.
// The events figures run within the SCIM part (on its database); --only=events runs them alone.
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const wanted = (part) => only === undefined || only === part;
const reporter = new Reporter();
const report = (...args) => reporter.report(...args);
const rate = (op, workers = 1) => measureRate(op, { workers, seconds });

async function storage() {
  // PGlite: kysely through Roster's serialising dialect vs raw PGlite, one transaction per insert.
  const raw = await PGlite.create();
  await raw.exec('create table t (id int primary key, v text)');
  const rawRate = await rate((i) =>
    raw.transaction(async (tx) => {
      await tx.query('insert into t values ($1, $2)', [i, 'x']);
    }),
  );
  await raw.close();
  const embedded = await openDatabase({ kind: 'pglite-memory' });
  await sql`create table t (id int primary key, v text)`.execute(embedded.db);
  const ourRate = await rate(
    (i) =>
      embedded.db.transaction().execute((tx) => sql`insert into t values (${i}, 'x')`.execute(tx)),
    concurrency,
  );
  await embedded.close();
  report('db.insert-txn.pglite', ourRate, 'ops/s', rawRate, 'raw PGlite');
  // SCIM create on the embedded database, beside raw PGlite transactions measured again in the
  // same slices.
  await benchCreatePglite({ report, seconds, concurrency });

  if (!process.env.DATABASE_URL) return;
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: concurrency });
  await pool.query(
    'drop table if exists roster_bench_t; create table roster_bench_t (id int primary key, v text)',
  );
  const pgRate = await rate(async (i) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('insert into roster_bench_t values ($1, $2)', [i, 'x']);
      await client.query('commit');
    } finally {
      client.release();
    }
  }, concurrency);
  await pool.query('truncate roster_bench_t');
  const server = await openDatabase({
    kind: 'postgres',
    url: process.env.DATABASE_URL,
    poolMax: concurrency,
  });
  const kyselyRate = await rate(
    (i) =>
      server.db
        .transaction()
        .execute((tx) => sql`insert into roster_bench_t values (${i}, 'x')`.execute(tx)),
    concurrency,
  );
  await pool.query('drop table roster_bench_t');
  await pool.end();
  await server.close();
  report('db.insert-txn.postgres', kyselyRate, 'ops/s', pgRate, 'raw node-pg');
}

function httpGet(agent, port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function scimDiscovery() {
  // GET /ServiceProviderConfig with bearer-token authentication (a database read per request)
  // vs express 5 hello, both in this process at 8 concurrent keep-alive clients.
  const hello = express();
  hello.get('/', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const helloServer = await listen(hello, '127.0.0.1', 0);
  const database = process.env.DATABASE_URL
    ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL, poolMax: 10 })
    : await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const slug = `bench-${Date.now().toString(36)}`;
  const ctx = { actor: { type: 'system' } };
  await createTenant(database.db, slug, ctx);
  const { token } = await createScimToken(database.db, slug, { expiresAt: null }, ctx, systemClock);
  const app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'http://localhost',
    config: BENCH_SCIM_CONFIG,
  });
  const scimServer = await listen(app, '127.0.0.1', 0);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  // alternating slices, so that load from elsewhere weighs on both alike
  const [helloRate, scimRate] = await pairedRates(
    [
      () => httpGet(agent, helloServer.address().port, '/'),
      () =>
        httpGet(agent, scimServer.address().port, `/scim/v2/${slug}/ServiceProviderConfig`, {
          authorization: `Bearer ${token}`,
        }),
    ],
    { workers: concurrency, seconds },
  );
  agent.destroy();
  await new Promise((resolve) => helloServer.close(resolve));
  await new Promise((resolve) => scimServer.close(resolve));
  await database.db.deleteFrom('tenants').where('slug', '=', slug).execute();
  await database.close();
  report(`scim.discovery.${database.engine}`, scimRate, 'req/s', helloRate, 'express hello', {
    min: 0.5,
  });
}

console.log(
  `Roster benchmarks (${quick ? 'quick' : 'full'}: ${seconds}s per figure, ${concurrency} concurrent where stated; ${process.env.DATABASE_URL ? 'PostgreSQL and PGlite' : 'PGlite only: set DATABASE_URL for PostgreSQL figures'})`,
);
if (wanted('storage')) await storage();
if (wanted('discovery')) await scimDiscovery();
if (!wanted('scim') && !wanted('events')) {
  // not asked for
} else if (process.env.DATABASE_URL) {
  await runScimBenchmarks({
    serverUrl: process.env.DATABASE_URL,
    quick,
    seconds,
    concurrency,
    report,
    eventsOnly: only === 'events',
  });
} else {
  console.log(
    'scim.create, .filter, .list, .group-patch, .initial-sync, events.*: PostgreSQL only, skipped',
  );
}
if (wanted('sso')) await ssoLogin({ quick, seconds, report });
if (wanted('oidc')) {
  await oidcBench({ quick, seconds, report });
  await oidcBackchannelLogout({ quick, report });
}
if (wanted('events')) {
  if (process.env.DATABASE_URL)
    await eventsOrderingCost({
      serverUrl: process.env.DATABASE_URL,
      quick,
      seconds,
      concurrency,
      report,
    });
  else console.log('events.ordering-cost: PostgreSQL only, skipped');
}
await reporter.write(new URL('../bench-results.json', import.meta.url));
console.log('written to bench-results.json');
