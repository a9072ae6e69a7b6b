// events.ordering-cost: what the per-tenant event order costs a tenant's writes. Every write
// appends to the outbox under the tenant row's lock, held from the append to the commit (so seq
// order is commit order: packages/core/src/changes/outbox.ts), which puts the commits of one
// tenant in a line. This measures createUserFromScim, 8 concurrent writers on ONE tenant on
// PostgreSQL, as it is, beside the same write with the seq taken from a sequence instead (no
// tenant row lock: seq order then is NOT commit order, which is why Roster does not do it). The
// second variant is a throwaway copy of core's build with that one statement changed, made at
// run time under .cache/; nothing in the repository changes.
//
//   DATABASE_URL=postgres://roster:roster@127.0.0.1:5432/roster_dev node bench/events-ordering.js [--quick]
//
// Also part of `npm run bench` (`--only=events`), PostgreSQL only.
/* global clearInterval, console, process, setInterval, setTimeout, URL */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as core from '@roster/core';
import { pairedRates, Reporter, round } from './lib/measure.js';
import { createBenchDatabase } from './scim/environment.js';

const CORE_DIST = new URL('../packages/core/dist/', import.meta.url);
const COPY_ROOT = new URL('../.cache/bench-events-ordering/', import.meta.url);
const SEQUENCE = 'roster_bench_outbox_seq';
const SYSTEM_CONTEXT = { actor: { type: 'system' } };

/** The append as core writes it: the tenant row's counter, locked until commit. */
const LOCKED_APPEND = `with next as (
      update tenants set outbox_seq = outbox_seq + \${rows.length}
      where id = \${tenantId} returning outbox_seq
    ), appended as (
      insert into change_outbox (tenant_id, seq, kind, entity_type, entity_id, payload)
      select \${tenantId}, next.outbox_seq - \${rows.length} + entry.ord, entry.item->>'kind',
        entry.item->>'entityType', (entry.item->>'entityId')::uuid, entry.item->'payload'
      from next, jsonb_array_elements(`;
/** The experiment: the same insert and NOTIFY, the seq from a sequence, no row locked. */
const SEQUENCE_APPEND = `with appended as (
      insert into change_outbox (tenant_id, seq, kind, entity_type, entity_id, payload)
      select \${tenantId}, nextval('${SEQUENCE}'), entry.item->>'kind',
        entry.item->>'entityType', (entry.item->>'entityId')::uuid, entry.item->'payload'
      from jsonb_array_elements(`;

/** Core's build with the sequence append, imported as a module of its own. */
async function unlockedCore() {
  await rm(COPY_ROOT, { recursive: true, force: true });
  const dist = new URL('dist/', COPY_ROOT);
  await cp(fileURLToPath(CORE_DIST), fileURLToPath(dist), { recursive: true });
  const outbox = new URL('changes/outbox.js', dist);
  const source = await readFile(outbox, 'utf8');
  if (!source.includes(LOCKED_APPEND))
    throw new Error('the outbox append changed: update bench/events-ordering.js to match it');
  const patched = source.replace(LOCKED_APPEND, SEQUENCE_APPEND);
  await writeFile(outbox, patched);
  return import(new URL('index.js', dist).href);
}

/** How often pg_stat_activity is sampled for writers waiting on the tenant row, in ms. */
const LOCK_SAMPLE_INTERVAL_MS = 50;

/**
 * Samples the backends waiting on a lock in the outbox append until `stop()`, which returns the
 * average number waiting during the ordered slices (the sequence variant never waits there, and
 * the slices alternate evenly, so half the samples fall in ordered slices).
 */
function sampleLockWaits(pool) {
  let samples = 0;
  let waiting = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    pool
      .query(
        `select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%update tenants set outbox_seq%'`,
      )
      .then(({ rows }) => {
        samples++;
        waiting += rows[0].n;
      })
      .finally(() => (busy = false));
  }, LOCK_SAMPLE_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((resolve) => setTimeout(resolve, 5));
      return samples === 0 ? 0 : waiting / (samples / 2);
    },
  };
}

/**
 * Runs the figure: `report('events.ordering-cost', locked, 'txn/s', unlocked, …)`. The ratio is
 * the share of the lock-free rate the ordered writes keep.
 */
export async function eventsOrderingCost({ serverUrl, quick, seconds, concurrency, report }) {
  const bench = await createBenchDatabase(serverUrl, { poolMax: concurrency });
  const unlocked = await unlockedCore();
  // Its own pool (the copy is another module instance), on the same database.
  const unlockedDatabase = await unlocked.openDatabase({
    kind: 'postgres',
    url: bench.url,
    poolMax: concurrency,
  });
  try {
    await bench.pool.query(`create sequence ${SEQUENCE}`);
    const ordered = await core.createTenant(bench.database.db, 'ordered', SYSTEM_CONTEXT);
    const unordered = await core.createTenant(bench.database.db, 'unordered', SYSTEM_CONTEXT);
    const run = `${Date.now().toString(36)}`;
    const write = (api, db, tenantId) => (i) =>
      api.createUserFromScim(
        db,
        tenantId,
        { userName: `w${run}-${i}@example.com`, externalId: `x${run}-${i}` },
        SYSTEM_CONTEXT,
        api.systemClock,
      );
    const orderedWrite = write(core, bench.database.db, ordered.id);
    const unorderedWrite = write(unlocked, unlockedDatabase.db, unordered.id);
    // Alternating slices, so that whatever else runs on the machine weighs on both alike.
    // Meanwhile, how many writers wait for the tenant row (a Lock wait in the append).
    const waiting = sampleLockWaits(bench.pool);
    const [orderedRate, unorderedRate] = await pairedRates([orderedWrite, unorderedWrite], {
      workers: concurrency,
      seconds: seconds * 2,
    });
    const waits = await waiting.stop();
    // One writer: no one to wait for, the lock costs nothing; the gap at 8 is the queue.
    const [orderedAlone, unorderedAlone] = await pairedRates([orderedWrite, unorderedWrite], {
      workers: 1,
      seconds: quick ? 1 : 2,
    });
    console.log(
      `  createUserFromScim on one tenant: ${concurrency} writers ${round(orderedRate)} txn/s ordered, ${round(unorderedRate)} txn/s with a sequence; 1 writer ${round(orderedAlone)} vs ${round(unorderedAlone)} txn/s; while the ${concurrency} ordered writers ran, ${round(waits, 2)} of them on average were waiting for the tenant row`,
    );
    report(
      'events.ordering-cost',
      orderedRate,
      'txn/s',
      unorderedRate,
      'the same write, seq from a sequence (no tenant row lock)',
    );
  } finally {
    await unlockedDatabase.close();
    await bench.close();
    await rm(COPY_ROOT, { recursive: true, force: true });
  }
}

// Run alone: `node bench/events-ordering.js [--quick]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.DATABASE_URL) {
    console.log('events.ordering-cost: PostgreSQL only (set DATABASE_URL)');
    process.exit(0);
  }
  const quick = process.argv.includes('--quick');
  const reporter = new Reporter();
  await eventsOrderingCost({
    serverUrl: process.env.DATABASE_URL,
    quick,
    seconds: quick ? 1 : 4,
    concurrency: 8,
    report: (...args) => reporter.report(...args),
  });
}
