// The SCIM benchmarks, on PostgreSQL: scim.create, scim.create.scale, scim.initial-sync (and
// events.throughput during it), events.latency, scim.filter (and its overhead over a raw SELECT),
// scim.list and scim.group-patch. Each section is independent: one that fails (a route not
// there yet) prints why and the others still run. `eventsOnly` runs the events figures alone
// (the initial sync, events.throughput and events.latency).
/* global console, performance */
import { sizeLabel } from '../lib/measure.js';
import { benchEventsLatency } from '../events.js';
import { benchCreate, measureHelloRate } from './create.js';
import { seedDirectories } from './directory.js';
import { createBenchDatabase, startHelloServer, startScimServer } from './environment.js';
import { benchGroupPatch } from './group-patch.js';
import { benchInitialSync } from './initial-sync.js';
import { benchFilterOverhead, benchReads } from './reads.js';
import { benchCreateScale } from './scale.js';

/** Sizes of a full run (the issue's) and of a `--quick` smoke run. */
export const SCIM_BENCH_PLANS = {
  full: {
    sizes: [10_000, 100_000, 1_000_000],
    bigGroup: 100_000,
    samples: 200,
    warmup: 20,
    sync: { users: 10_000, groups: 1_000 },
  },
  quick: {
    sizes: [1_000, 5_000, 20_000],
    bigGroup: 10_000,
    samples: 40,
    warmup: 10,
    sync: { users: 500, groups: 50 },
  },
};

async function section(name, work) {
  const started = performance.now();
  console.log(`${name} …`);
  try {
    return await work();
  } catch (error) {
    console.log(`!! ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  } finally {
    console.log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
}

/**
 * @param {{ serverUrl: string, quick: boolean, seconds: number, concurrency: number,
 *   report: (name: string, value: number, unit: string, reference: number, referenceName: string, goal?: object) => void,
 *   eventsOnly?: boolean }} options
 */
export async function runScimBenchmarks({
  serverUrl,
  quick,
  seconds,
  concurrency,
  report,
  eventsOnly = false,
}) {
  const plan = quick ? SCIM_BENCH_PLANS.quick : SCIM_BENCH_PLANS.full;
  const env = await createBenchDatabase(serverUrl, { poolMax: 10 });
  console.log(
    `SCIM benchmarks in database ${env.name} (sizes ${plan.sizes.map(sizeLabel).join(' / ')}, dropped afterwards)`,
  );
  const scim = await startScimServer(env.database);
  const hello = await startHelloServer();
  try {
    const created = eventsOnly
      ? undefined
      : await section('scim.create', () =>
          benchCreate({ env, scim, hello, report, seconds, concurrency }),
        );
    if (!eventsOnly)
      await section('scim.create.scale', () =>
        benchCreateScale({ env, report, seconds, concurrency }),
      );
    // the reference of initial-sync, even when POST /Users failed
    const helloRate =
      created?.helloRate ?? (await measureHelloRate(hello, { seconds, concurrency }));
    await section('scim.initial-sync', () =>
      benchInitialSync({
        env,
        scim,
        report,
        helloRate,
        concurrency,
        ...plan.sync,
      }),
    );
    await section('events.latency', () => benchEventsLatency({ env, quick, report }));
    if (eventsOnly) return;
    const directories = await section('seeding', () => seedDirectories(env, plan));
    if (directories === undefined) return;
    const reads = { env, scim, directories, report, samples: plan.samples, warmup: plan.warmup };
    await section('scim.filter.overhead', () => benchFilterOverhead(reads));
    await section('scim.filter and scim.list', () => benchReads(reads));
    await section('scim.group-patch', () => benchGroupPatch(reads));
  } finally {
    await scim.close();
    await hello.close();
    await env.close();
  }
}
