// scim.filter and scim.list: latency of sequential GETs against directories of each size, the
// largest size's p50 beside the smallest's. Every response is checked, so a fast wrong answer
// (no match, a page-length totalResults) is printed as such.
/* global console */
import { interleavedLatency, round, sizeLabel } from '../lib/measure.js';
import { eqFilter, ScimClient } from './http-client.js';
import { seededEmail, seededUserName } from './seed.js';

/** Seeded user number for the k-th request: spread over the whole tenant, same in every run. */
const pick = (k, size) => 1 + (((k + 1) * 2_654_435_761) % size);

export const PAGE_SIZE = 100;

/** The read cases: how to ask, and what a right answer is for a tenant of `size` users. */
function readCases() {
  return [
    {
      name: 'scim.filter.userName',
      goal: { max: 1.5 },
      path: (k, size) => `/Users?${eqFilter('userName', seededUserName(pick(k, size)))}`,
      check: (body, k, size) =>
        body.totalResults === 1 && body.Resources?.[0]?.userName === seededUserName(pick(k, size))
          ? null
          : `expected 1 user ${seededUserName(pick(k, size))}, got totalResults ${body.totalResults}`,
    },
    {
      name: 'scim.filter.emails',
      goal: { max: 1.5 },
      path: (k, size) => `/Users?${eqFilter('emails.value', seededEmail(pick(k, size)))}`,
      check: (body, k, size) =>
        body.totalResults === 1 &&
        body.Resources?.[0]?.emails?.[0]?.value === seededEmail(pick(k, size))
          ? null
          : `expected the user with ${seededEmail(pick(k, size))}, got totalResults ${body.totalResults}`,
    },
    {
      name: 'scim.list.index',
      goal: { max: 2 },
      path: () => `/Users?startIndex=1&count=${PAGE_SIZE}`,
      check: (body, _k, size) =>
        body.totalResults === size && body.Resources?.length === PAGE_SIZE
          ? null
          : `expected totalResults ${size} (exact) and ${PAGE_SIZE} resources, got ${body.totalResults} and ${body.Resources?.length}`,
    },
    {
      // RFC 9865: an empty cursor asks for the first page; the same page as startIndex=1.
      name: 'scim.list.cursor',
      goal: { max: 2 },
      path: () => `/Users?cursor=&count=${PAGE_SIZE}`,
      check: (body) =>
        body.Resources?.length === PAGE_SIZE && typeof body.nextCursor === 'string'
          ? null
          : `expected ${PAGE_SIZE} resources and a nextCursor, got ${body.Resources?.length} and ${body.nextCursor}`,
    },
  ];
}

/**
 * Latency of one case against every tenant, a request to each size in turn so that load from
 * elsewhere weighs on every size alike; one { size, p50, p95, max, problems } per tenant.
 */
async function measureCase(clients, tenants, readCase, { samples, warmup }) {
  const problems = tenants.map(() => []);
  const ops = tenants.map(({ size }, index) => async (k) => {
    const response = await clients[index].get(readCase.path(k, size));
    const problem =
      response.status !== 200
        ? `HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 200)}`
        : readCase.check(response.body, k, size);
    if (problem !== null) problems[index].push(problem);
  });
  const figures = await interleavedLatency(ops, { samples, warmup });
  return tenants.map(({ size }, index) => ({ size, ...figures[index], problems: problems[index] }));
}

function printCase(name, bySize, samples) {
  for (const result of bySize) {
    console.log(
      `  ${name} @ ${sizeLabel(result.size).padEnd(4)} p50 ${round(result.p50, 2)} ms  p95 ${round(result.p95, 2)} ms  max ${round(result.max, 1)} ms  (${samples} sequential requests)`,
    );
    if (result.problems.length > 0) {
      console.log(`  !! ${result.problems.length} wrong answers, first: ${result.problems[0]}`);
    }
  }
}

/** The largest size's p50 beside the smallest's (the goal row), middle sizes beside it too. */
function reportCase(report, name, bySize, goal) {
  const [smallest] = bySize;
  const reference = `p50 @ ${sizeLabel(smallest.size)}`;
  for (const middle of bySize.slice(1, -1)) {
    report(`${name}.${sizeLabel(middle.size)}`, middle.p50, 'ms', smallest.p50, reference);
  }
  const largest = bySize[bySize.length - 1];
  report(name, largest.p50, 'ms', smallest.p50, reference, goal);
}

/**
 * scim.filter.overhead: one client, `GET /Users?filter=userName eq "…"` on the middle-sized
 * tenant (100k users in a full run) beside the indexed SELECT of the same user by the same key
 * (tenant_id, user_name_key) through kysely on the same pool, in alternating requests. What the
 * HTTP and SCIM layers add to the database's own answer.
 */
export async function benchFilterOverhead({ env, scim, directories, report, samples, warmup }) {
  const { tenants } = directories;
  const { size, tenant } = tenants[Math.floor(tenants.length / 2)];
  const client = new ScimClient(scim.port, tenant.slug, tenant.token, 1);
  const problems = [[], []];
  try {
    const [http, select] = await interleavedLatency(
      [
        async (k) => {
          const response = await client.get(
            `/Users?${eqFilter('userName', seededUserName(pick(k, size)))}`,
          );
          const problem =
            response.status !== 200
              ? `HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 200)}`
              : (readCases()[0].check(response.body, k, size) ?? null);
          if (problem !== null) problems[0].push(problem);
        },
        async (k) => {
          const userName = seededUserName(pick(k, size));
          const rows = await env.database.db
            .selectFrom('users')
            .selectAll()
            .where('tenant_id', '=', tenant.id)
            .where('user_name_key', '=', userName.toLowerCase())
            .execute();
          if (rows.length !== 1 || rows[0].user_name !== userName) {
            problems[1].push(`SELECT ${userName}: ${rows.length} rows`);
          }
        },
      ],
      { samples, warmup },
    );
    for (const [label, figures, found] of [
      ['GET filter', http, problems[0]],
      ['kysely SELECT', select, problems[1]],
    ]) {
      console.log(
        `  scim.filter.overhead @ ${sizeLabel(size)} ${label.padEnd(13)} p50 ${round(figures.p50, 3)} ms  p95 ${round(figures.p95, 3)} ms  max ${round(figures.max, 1)} ms  (${samples} sequential requests)`,
      );
      if (found.length > 0) console.log(`  !! ${found.length} wrong answers, first: ${found[0]}`);
    }
    report(
      'scim.filter.overhead',
      http.p50,
      'ms',
      select.p50,
      `indexed kysely SELECT p50 @ ${sizeLabel(size)}`,
      { max: 2 },
    );
  } finally {
    client.close();
  }
}

/** Runs every read case against every tenant and reports it. */
export async function benchReads({ scim, directories, report, samples, warmup }) {
  const { tenants } = directories;
  const clients = tenants.map(
    ({ tenant }) => new ScimClient(scim.port, tenant.slug, tenant.token, 1),
  );
  try {
    for (const readCase of readCases()) {
      const bySize = await measureCase(clients, tenants, readCase, { samples, warmup });
      printCase(readCase.name, bySize, samples);
      reportCase(report, readCase.name, bySize, readCase.goal);
    }
    await benchCursorNextPage({ clients, tenants, report, samples, warmup });
  } finally {
    for (const client of clients) client.close();
  }
}

/** A later page by cursor: the nextCursor of the first page, the way a client pages on. */
async function benchCursorNextPage({ clients, tenants, report, samples, warmup }) {
  const cursors = [];
  for (const [index] of tenants.entries()) {
    const first = await clients[index].get(`/Users?cursor=&count=${PAGE_SIZE}`);
    const nextCursor = first.body?.nextCursor;
    if (first.status !== 200 || typeof nextCursor !== 'string') {
      console.log(
        `  scim.list.cursor-next: no nextCursor from the first page (HTTP ${first.status}); skipped`,
      );
      return;
    }
    cursors.push(nextCursor);
  }
  const readCase = {
    path: (_k, size) =>
      `/Users?cursor=${encodeURIComponent(cursors[tenants.findIndex((t) => t.size === size)])}&count=${PAGE_SIZE}`,
    check: (body) =>
      body.Resources?.length === PAGE_SIZE
        ? null
        : `expected ${PAGE_SIZE} resources, got ${body.Resources?.length}`,
  };
  const bySize = await measureCase(clients, tenants, readCase, { samples, warmup });
  printCase('scim.list.cursor-next', bySize, samples);
  reportCase(report, 'scim.list.cursor-next', bySize, { max: 2 });
}
