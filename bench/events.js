// The events benchmarks, on PostgreSQL (bench/README.md):
// - events.latency: from the SCIM answer (201 to a POST /Users) to the webhook receiver getting
//   that user's `user.created` event, p50 and p95, 8 concurrent SCIM writers, against the real
//   server process (`npm start`: apps/server/dist/main.js) with its webhook worker, woken by
//   LISTEN/NOTIFY at each commit. Reference: the p50 of the POST round trip in the same runs.
// - events.throughput: deliveries per second to one endpoint while `scim.initial-sync` runs
//   (initial-sync.js calls startWebhookDelivery), beside the events per second the sync writes.
/* global console, fetch, performance, process, setTimeout */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHANGES_CHANNEL,
  createLogger,
  createWebhook,
  outboundPolicyFrom,
  startWebhookWorker,
  systemClock,
} from '@roster/core';
import { round } from './lib/measure.js';
import { startBenchReceiver } from './lib/webhook-receiver.js';
import { newUserBody } from './scim/create.js';
import { createBenchTenant } from './scim/environment.js';
import { ScimClient } from './scim/http-client.js';

const SYSTEM_CONTEXT = { actor: { type: 'system' } };
const SERVER_ENTRY = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../apps/server/dist/main.js',
);
/** Longest the bench waits for the last event to arrive before it gives up on the figure. */
const ARRIVAL_TIMEOUT_MS = 120_000;
/** Longest the server process may take to answer /readyz. */
const SERVER_START_TIMEOUT_MS = 60_000;
/** Writers, as in the SCIM benchmarks: an IdP pushing with 8 connections. */
const WRITERS = 8;

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `done()` holds, checked every 5 ms; throws after `timeoutMs` naming `what`. */
async function until(what, done, timeoutMs = ARRIVAL_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/**
 * `npm start` as it runs in production, on the bench database: every app, the delivery and
 * webhook workers, outbound calls allowed to loopback (the receiver), the SCIM rate limit raised
 * far above any rate reached here. Resolves to { scimPort, stop() }.
 */
async function startServerProcess(databaseUrl) {
  const [scimPort, ssoPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(ROSTER_|DATABASE_|SCIM_|SSO_|ADMIN_|LOG_LEVEL|HOST$)/.test(key),
    ),
  );
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      SCIM_PORT: String(scimPort),
      SSO_PORT: String(ssoPort),
      ADMIN_PORT: String(adminPort),
      ROSTER_ADMIN_TOKEN: 'roster_admin_bench-events-0123456789abcdef',
      ROSTER_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      SCIM_RATE_LIMIT_PER_SECOND: '100000',
      SCIM_RATE_LIMIT_BURST: '1000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = performance.now() + SERVER_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ready = await fetch(`http://127.0.0.1:${scimPort}/readyz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the server did not answer /readyz');
    }
    await sleep(100);
  }
  return {
    scimPort,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A webhook of `tenant` to a new receiver, its secret given to the receiver. */
async function subscribe(database, tenant) {
  const receiver = await startBenchReceiver();
  const { secret } = await createWebhook(
    database.db,
    tenant.id,
    { url: receiver.url },
    SYSTEM_CONTEXT,
  );
  receiver.setSecret(secret);
  return receiver;
}

/**
 * events.latency (see the top of this file). `env` is the SCIM benchmarks' database
 * (scim/environment.js).
 */
export async function benchEventsLatency({ env, quick, report }) {
  const perWriter = quick ? 20 : 100;
  const warmupPerWriter = 3;
  const tenant = await createBenchTenant(env.database, 'events');
  const receiver = await subscribe(env.database, tenant);
  const server = await startServerProcess(env.url);
  const client = new ScimClient(server.scimPort, tenant.slug, tenant.token, WRITERS);
  const arrivedAt = new Map(); // user id -> when its user.created arrived
  receiver.onArrival((event, at) => {
    if (event.type === 'user.created' && !arrivedAt.has(event.data.user.id))
      arrivedAt.set(event.data.user.id, at);
  });
  try {
    const samples = []; // { userId, sent, answered }
    const writing = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        for (let i = 0; i < warmupPerWriter + perWriter; i++) {
          const sent = performance.now();
          const created = await client.expect(
            [201],
            'POST',
            '/Users',
            newUserBody(`events-w${writer}`, i),
          );
          const answered = performance.now();
          if (i >= warmupPerWriter) samples.push({ userId: created.body.id, sent, answered });
        }
      }),
    );
    // Whether the endpoint kept up: an endpoint gets its events one at a time, so when they are
    // written faster than it is sent them, the latency is the backlog.
    const writeSeconds = (performance.now() - writing) / 1000;
    const deliveredWhileWriting = receiver.count();
    const written = WRITERS * (warmupPerWriter + perWriter);
    await until('every user.created event at the receiver', () =>
      samples.every(({ userId }) => arrivedAt.has(userId)),
    );
    // An event may arrive before the client has read the 201 (the commit comes first): 0 ms.
    const latencies = samples
      .map(({ userId, answered }) => Math.max(0, arrivedAt.get(userId) - answered))
      .sort((a, b) => a - b);
    const early = samples.filter(({ userId, answered }) => arrivedAt.get(userId) < answered);
    const roundTrips = samples.map(({ sent, answered }) => answered - sent).sort((a, b) => a - b);
    if (receiver.badSignatures() > 0)
      console.log(`!! events.latency: ${receiver.badSignatures()} deliveries failed verification`);
    console.log(
      `  events.latency: ${samples.length} creates by ${WRITERS} writers against the server process; from the 201 to the receiver: p50 ${round(percentile(latencies, 0.5))} ms, p95 ${round(percentile(latencies, 0.95))} ms, max ${round(latencies.at(-1))} ms (${early.length} arrived before the client read the 201); POST round trip p50 ${round(percentile(roundTrips, 0.5))} ms, p95 ${round(percentile(roundTrips, 0.95))} ms; while writing, ${round(written / writeSeconds)} events/s written and ${round(deliveredWhileWriting / writeSeconds)} deliveries/s received`,
    );
    const postP50 = percentile(roundTrips, 0.5);
    report('events.latency.p50', percentile(latencies, 0.5), 'ms', postP50, 'SCIM POST p50');
    report('events.latency.p95', percentile(latencies, 0.95), 'ms', postP50, 'SCIM POST p50');
  } finally {
    client.close();
    await server.stop();
    await receiver.close();
  }
}

/**
 * The webhook worker as `npm start` runs it, in this process beside the SCIM app the initial sync
 * talks to, delivering `tenant`'s events to a receiver. Resolves to { receiver, stop() }.
 */
export async function startWebhookDelivery(database, tenant) {
  const receiver = await subscribe(database, tenant);
  const worker = startWebhookWorker(database.db, {
    policy: outboundPolicyFrom('127.0.0.1'),
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
  });
  const unlisten = await database.listen(CHANGES_CHANNEL, () => worker.wake());
  return {
    receiver,
    async stop() {
      await unlisten();
      await worker.stop();
      await receiver.close();
    },
  };
}

/**
 * events.throughput, from what the initial sync saw: `deliveredDuringSync` deliveries in its
 * `seconds`, ended at `ended` (performance.now()), while it wrote `eventsWritten` events; then
 * waits for the rest and prints when the last one arrived.
 */
export async function reportEventsThroughput({
  delivery,
  deliveredDuringSync,
  seconds,
  ended,
  eventsWritten,
  report,
}) {
  await until(
    'every event of the sync at the receiver',
    () => delivery.receiver.arrivals.size >= eventsWritten,
  );
  const drained = (performance.now() - ended) / 1000;
  if (delivery.receiver.badSignatures() > 0)
    console.log(
      `!! events.throughput: ${delivery.receiver.badSignatures()} deliveries failed verification`,
    );
  console.log(
    `  events.throughput: ${deliveredDuringSync} of ${eventsWritten} events delivered during the ${round(seconds, 1)} s sync (${round(deliveredDuringSync / seconds)} deliveries/s; the sync wrote ${round(eventsWritten / seconds)} events/s), the last one ${round(drained, 1)} s after the sync's end`,
  );
  report(
    'events.throughput',
    deliveredDuringSync / seconds,
    'del/s',
    eventsWritten / seconds,
    'events written/s by the sync',
  );
}
