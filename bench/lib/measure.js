// Measuring and reporting, shared by every benchmark in run.js.
/* global console, performance */
import { writeFile } from 'node:fs/promises';

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Bounds every closed loop, whatever its time budget (a runaway loop must still end). */
export const MAX_OPS_PER_LOOP = 2_000_000;

let nextId = 0; // ids unique across warm-ups and runs, so inserts never collide

/** Closed loop of `op(id)` on `workers` callers until `deadline`; returns ops completed. */
async function loop(op, workers, deadline) {
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && done < MAX_OPS_PER_LOOP) {
        await op(nextId++);
        done++;
      }
    }),
  );
  return done;
}

/**
 * Runs `op(id)` in a closed loop with `workers` concurrent callers for `seconds` after 20 warm-up
 * calls; returns completed ops per second.
 */
export async function rate(op, { workers = 1, seconds }) {
  return (await pairedRates([op], { workers, seconds, rounds: 1 }))[0];
}

/**
 * Ops per second of each of `ops`, measured in `rounds` alternating slices of
 * seconds/rounds each (a, b, c, a, b, c, …), so that load from elsewhere on a shared machine
 * weighs on every figure alike and their ratios stay meaningful. `workers` is one number for
 * all, or one per op.
 */
export async function pairedRates(ops, { workers = 1, seconds, rounds = 4 }) {
  const workersOf = (index) => (Array.isArray(workers) ? workers[index] : workers);
  for (const op of ops) for (let i = 0; i < 20; i++) await op(nextId++);
  const done = ops.map(() => 0);
  const elapsed = ops.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (const [index, op] of ops.entries()) {
      const started = performance.now();
      done[index] += await loop(op, workersOf(index), started + (seconds * 1000) / rounds);
      elapsed[index] += performance.now() - started;
    }
  }
  return ops.map((_, index) => done[index] / (elapsed[index] / 1000));
}

function percentiles(times, samples) {
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p95: at(0.95), max: times[times.length - 1], samples };
}

/**
 * Latency of `op(i)` over `samples` sequential calls after `warmup` calls (i counts on across
 * both, so each call may pick different data); returns p50/p95/max in ms.
 */
export async function latency(op, { samples, warmup = 20 }) {
  return (await interleavedLatency([op], { samples, warmup }))[0];
}

/**
 * Latency of each of `ops`, sequential calls taken in turn (a, b, c, a, b, c, …) so that a
 * noisy neighbour slows every case alike; one { p50, p95, max } per op, in ms.
 */
export async function interleavedLatency(ops, { samples, warmup = 20 }) {
  for (let i = 0; i < warmup; i++) for (const op of ops) await op(i);
  const times = ops.map(() => []);
  for (let i = 0; i < samples; i++) {
    for (const [index, op] of ops.entries()) {
      const started = performance.now();
      await op(warmup + i);
      times[index].push(performance.now() - started);
    }
  }
  return times.map((list) => percentiles(list, samples));
}

/** "10k", "1m": a size as a short label for names and lines. */
export function sizeLabel(n) {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}m`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

/**
 * Collects figures as { name, value, unit, reference, ratio } and prints each beside its
 * reference. A goal ({ max } or { min } on the ratio) is printed, never written or asserted.
 */
export class Reporter {
  results = [];

  report(name, value, unit, reference, referenceName, goal) {
    const ratio = reference > 0 && Number.isFinite(value) ? value / reference : null;
    this.results.push({
      name,
      value: round(value, value < 10 ? 2 : 1),
      unit,
      reference: round(reference, reference < 10 ? 2 : 1),
      ratio: ratio === null ? null : round(ratio, 3),
    });
    const verdict =
      goal === undefined || ratio === null
        ? ''
        : `  goal ${goal.max !== undefined ? `≤ ${goal.max}` : `≥ ${goal.min}`}: ${
            (goal.max !== undefined ? ratio <= goal.max : ratio >= goal.min) ? 'met' : 'NOT met'
          }`;
    console.log(
      `${name.padEnd(34)} ${round(value, 2).toString().padStart(9)} ${unit.padEnd(6)} reference ${referenceName} ${round(reference, 2)} ${unit}  ratio ${ratio?.toFixed(3)}${verdict}`,
    );
  }

  async write(url) {
    await writeFile(url, `${JSON.stringify(this.results, null, 2)}\n`);
  }
}
