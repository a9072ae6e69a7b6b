// A CPU profile of the server alone under the write and sign-in loads, and the SQL statements
// each request sends:
// `DATABASE_URL=… node bench/profile.js [--seconds=15] [--top=15] [--out=…] [--only=oidc]`.
//
// - SCIM create: POST /Users from 8 keep-alive clients on ONE tenant (as scim.create), against a
//   SCIM app in a child process started with `node --cpu-prof`.
// - SSO login: ACS sign-ins (returning users, then new JIT users, as sso.login) from 4 clients on
//   their own thread, against an SSO app in a child process started with `node --cpu-prof`.
// - OIDC login: whole OpenID Connect sign-ins (authorize → SAML → code → token, as oidc.login)
//   from 4 clients on 2 threads, against an SSO app in a child process under `node --cpu-prof`.
//
// `--only=scim|sso|oidc` profiles one of them. The child processes count every statement they
// send through node-pg (the driver's Client#query, wrapped in lib/app-process.js) while the load
// runs. The profiles are written to --out and summarised (top functions by self time, self time
// per package) with lib/summarise-cpu-profile.js. All run in a database of their own, dropped
// afterwards.
/* global console, performance, process */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createBenchDatabase, createBenchTenant } from './scim/environment.js';
import { newUserBody } from './scim/create.js';
import { ScimClient } from './scim/http-client.js';
import { acsRate, setUpSsoBench } from './sso-login.js';
import { setUpOidcBench } from './oidc-login.js';
import { startAppProcess } from './lib/child-app.js';
import { formatSummary, summariseCpuProfile } from './lib/summarise-cpu-profile.js';

const argument = (name, fallback) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const seconds = Number(argument('seconds', '15'));
const top = Number(argument('top', '15'));
const out = resolve(argument('out', '.cache/bench-profile'));
const concurrency = 8;
const only = argument('only', undefined);
const wanted = (part) => only === undefined || only === part;

if (!process.env.DATABASE_URL) {
  console.error('bench/profile.js needs DATABASE_URL (a PostgreSQL role with CREATEDB)');
  process.exit(2);
}

/** Statements per request, most frequent first: [{ text, perRequest }]. */
function perRequest(statements, requests) {
  return Object.entries(statements.byText)
    .map(([text, n]) => ({ text, perRequest: n / requests }))
    .sort((a, b) => b.perRequest - a.perRequest);
}

function printStatements(label, statements, requests) {
  const lines = [
    `${label}: ${statements.total} statements for ${requests} requests = ${(statements.total / requests).toFixed(2)} per request`,
    `  by kind: ${Object.entries(statements.byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${kind} ${(n / requests).toFixed(2)}`)
      .join(', ')}`,
  ];
  for (const { text, perRequest: n } of perRequest(statements, requests)) {
    if (n >= 0.01) lines.push(`  ${n.toFixed(2)}  ${text}`);
  }
  console.log(lines.join('\n'));
  return lines.join('\n');
}

async function summarise(label, file) {
  const summary = summariseCpuProfile(JSON.parse(await readFile(file, 'utf8')));
  console.log(`\n${label} (${file})\n${formatSummary(summary, { top })}\n`);
  return formatSummary(summary, { top, markdown: true });
}

const profileFlags = (name) => ['--cpu-prof', `--cpu-prof-dir=${out}`, `--cpu-prof-name=${name}`];

async function profileScimCreate(env) {
  const tenant = await createBenchTenant(env.database, 'profile');
  const child = await startAppProcess('scim', env.url, {
    execArgv: profileFlags('scim-create.cpuprofile'),
  });
  const client = new ScimClient(child.port, tenant.slug, tenant.token, concurrency);
  let next = 0;
  const createFor = async (deadline) => {
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await client.expect([201], 'POST', '/Users', newUserBody('prof', next++));
          done += 1;
        }
      }),
    );
    return done;
  };
  try {
    await createFor(performance.now() + 2_000); // warm-up
    await child.countStatements();
    const started = performance.now();
    const creates = await createFor(started + seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const { statements } = await child.stats();
    console.log(
      `scim create: ${creates} creates in ${elapsed.toFixed(1)} s = ${(creates / elapsed).toFixed(1)} req/s (8 clients, one tenant, profiled)`,
    );
    const text = printStatements('statements per SCIM create', statements, creates);
    return { creates, rate: creates / elapsed, statements: text };
  } finally {
    client.close();
    await child.stop();
  }
}

async function profileSsoLogin(env) {
  const bench = await setUpSsoBench(env.database);
  const child = await startAppProcess('sso', env.url, {
    execArgv: profileFlags('sso-login.cpuprofile'),
  });
  const count = Math.ceil(seconds * 100);
  const users = 200;
  const post = (items) =>
    acsRate({
      port: child.port,
      acsPath: bench.acsPath,
      cookie: bench.cookie,
      bodies: items.map((item) => item.body),
      workers: 4,
      seconds: 3_600,
    });
  try {
    const returning = (i) => `returning-${i % users}@example.com`;
    console.log(`preparing ${users + 2 * count} signed SAML responses …`);
    const first = await bench.prepare(returning, users);
    const returningItems = await bench.prepare(returning, count);
    const jitItems = await bench.prepare((i) => `jit-${i}-${bench.slug}@example.com`, count);
    await post(first); // the returning users' first sign-in (JIT), also the warm-up
    const results = {};
    for (const [kind, items] of [
      ['returning', returningItems],
      ['jit', jitItems],
    ]) {
      await child.countStatements();
      const { done, ms } = await post(items);
      const { statements } = await child.stats();
      console.log(
        `sso login (${kind}): ${done} sign-ins in ${(ms / 1000).toFixed(1)} s = ${(done / (ms / 1000)).toFixed(1)} /s (4 clients, profiled)`,
      );
      results[kind] = {
        rate: done / (ms / 1000),
        statements: printStatements(`statements per ${kind} sign-in`, statements, done),
      };
    }
    return results;
  } finally {
    await child.stop();
    await bench.remove();
  }
}

async function profileOidcLogin(env) {
  // The child's SSO app has the base URL the OIDC bench's generator speaks to (lib/app-process.js).
  const world = await setUpOidcBench(env.database);
  const users = 200;
  let samlStatements;
  // The users' first sign-ins (JIT) and a SAML-only round for comparison, in a child that is not
  // profiled, so that the profile holds the OpenID Connect load alone.
  const plain = await startAppProcess('sso', env.url);
  try {
    const generator = await world.startGenerator({ port: plain.port, users });
    try {
      await generator.run('saml', { limit: users });
      await plain.countStatements();
      const { done } = await generator.run('saml', { limit: users });
      const { statements } = await plain.stats();
      samlStatements = printStatements('statements per SAML-only sign-in', statements, done);
    } finally {
      await generator.close();
    }
  } finally {
    await plain.stop();
  }
  const child = await startAppProcess('sso', env.url, {
    execArgv: profileFlags('oidc-login.cpuprofile'),
  });
  const generator = await world.startGenerator({ port: child.port, users });
  try {
    await generator.run('oidc', { limit: 20 }); // warm-up
    await child.countStatements();
    const { done, ms } = await generator.run('oidc', { seconds });
    const { statements } = await child.stats();
    const rate = done / (ms / 1000);
    console.log(
      `oidc login: ${done} sign-ins in ${(ms / 1000).toFixed(1)} s = ${rate.toFixed(1)} /s (4 clients, profiled)`,
    );
    const oidcStatements = printStatements('statements per OIDC sign-in', statements, done);
    return { rate, statements: `${oidcStatements}\n${samlStatements}` };
  } finally {
    await generator.close();
    await child.stop();
    await world.remove();
  }
}

await mkdir(out, { recursive: true });
const env = await createBenchDatabase(process.env.DATABASE_URL, { poolMax: 10 });
try {
  const { rows } = await env.pool.query('select version()');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${rows[0].version.split(' on ')[0]}`;
  console.log(`${new Date().toISOString()}  ${machine}\n`);
  const sections = [`${new Date().toISOString()}: ${machine}`];
  if (wanted('scim')) {
    const scim = await profileScimCreate(env);
    const summary = await summarise('SCIM create', join(out, 'scim-create.cpuprofile'));
    sections.push(
      `## SCIM create (${scim.rate.toFixed(1)} req/s while profiled)`,
      summary,
      ['```text', scim.statements, '```'].join('\n'),
    );
  }
  if (wanted('sso')) {
    const sso = await profileSsoLogin(env);
    const summary = await summarise('SSO login', join(out, 'sso-login.cpuprofile'));
    sections.push(
      `## SSO login (returning ${sso.returning.rate.toFixed(1)} /s, JIT ${sso.jit.rate.toFixed(1)} /s while profiled)`,
      summary,
      ['```text', sso.returning.statements, sso.jit.statements, '```'].join('\n'),
    );
  }
  if (wanted('oidc')) {
    const oidc = await profileOidcLogin(env);
    const summary = await summarise('OIDC login', join(out, 'oidc-login.cpuprofile'));
    sections.push(
      `## OIDC login (${oidc.rate.toFixed(1)} /s while profiled)`,
      summary,
      ['```text', oidc.statements, '```'].join('\n'),
    );
  }
  await writeFile(join(out, 'summary.md'), `${sections.join('\n\n')}\n`);
  console.log(`profiles and summary.md in ${out}`);
} finally {
  await env.close();
}
