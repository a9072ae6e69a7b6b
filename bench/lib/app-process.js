// One Roster app (SCIM or SSO) in a child process of the bench, on a free loopback port, over the
// PostgreSQL database the parent names. Used by scim.create.scale (two processes against one)
// and by the baseline profile (`node --cpu-prof` of the server alone, without the load generator).
//
// Messages from the parent: { type: 'count-statements' } starts counting the SQL statements this
// process sends; { type: 'stats' } answers { type: 'stats', cpu, statements }; { type: 'stop' }
// closes the server and the pool and exits (so that --cpu-prof writes its profile).
/* global process */
import pg from 'pg';
import { createLogger, openDatabase, systemClock } from '@roster/core';
import { createLifecycle, listen } from '@roster/http';
import { BENCH_SCIM_CONFIG } from './scim-config.js';

const [app, url, poolMax = '10'] = process.argv.slice(2);

/** Statements sent through node-pg since counting started, by their first word (BEGIN, INSERT, …). */
const statements = { total: 0, byKind: {}, byText: {} };
let counting = false;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  if (counting) {
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    const kind = (/^\s*(\w+)/.exec(text)?.[1] ?? '?').toUpperCase();
    statements.total += 1;
    statements.byKind[kind] = (statements.byKind[kind] ?? 0) + 1;
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 160);
    statements.byText[key] = (statements.byText[key] ?? 0) + 1;
  }
  return query.call(this, config, ...rest);
};

const database = await openDatabase({ kind: 'postgres', url, poolMax: Number(poolMax) });
const options = {
  database,
  logger: createLogger({ level: 'silent' }),
  clock: systemClock,
  lifecycle: createLifecycle(),
};
const server =
  app === 'scim'
    ? await listen(
        (await import('@roster/scim')).createScimApp({
          ...options,
          baseUrl: 'http://localhost',
          config: BENCH_SCIM_CONFIG,
        }),
        '127.0.0.1',
        0,
      )
    : await listen(
        (await import('@roster/sso')).createSsoApp({
          ...options,
          baseUrl: 'https://sso.bench.test',
        }),
        '127.0.0.1',
        0,
      );

process.on('message', async (message) => {
  if (message.type === 'count-statements') {
    statements.total = 0;
    statements.byKind = {};
    statements.byText = {};
    counting = true;
    process.send({ type: 'counting' });
  } else if (message.type === 'stats') {
    process.send({ type: 'stats', cpu: process.cpuUsage(), statements });
  } else if (message.type === 'stop') {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
    await database.close();
    process.exit(0);
  }
});
process.send({ type: 'listening', port: server.address().port });
