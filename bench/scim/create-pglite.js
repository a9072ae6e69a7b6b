// scim.create.pglite: POST /Users at 8 keep-alive clients on ONE tenant of the embedded database
// (PGlite in memory, in this process), beside raw PGlite single-row INSERT transactions (one
// caller: PGlite has one session) and express 5 hello, in alternating slices.
import { PGlite } from '@electric-sql/pglite';
import { migrateToLatest, openDatabase } from '@roster/core';
import { pairedRates } from '../lib/measure.js';
import { newUserBody } from './create.js';
import { createBenchTenant, startHelloServer, startScimServer } from './environment.js';
import { HelloClient, ScimClient } from './http-client.js';

/** The goal of SCIM create against its reference, on either engine. */
export const CREATE_GOAL = { min: 0.2 };

export async function benchCreatePglite({ report, seconds, concurrency }) {
  const raw = await PGlite.create();
  await raw.exec('create table t (id int primary key, v text)');
  const database = await openDatabase({ kind: 'pglite-memory' });
  await migrateToLatest(database);
  const tenant = await createBenchTenant(database, 'pglite');
  const scim = await startScimServer(database);
  const hello = await startHelloServer();
  const client = new ScimClient(scim.port, tenant.slug, tenant.token, concurrency);
  const helloClient = new HelloClient(hello.port, concurrency);
  try {
    const [rawRate, createRate, helloRate] = await pairedRates(
      [
        (id) =>
          raw.transaction(async (tx) => {
            await tx.query('insert into t values ($1, $2)', [id, 'x']);
          }),
        async (id) => {
          await client.expect([201], 'POST', '/Users', newUserBody('p', id));
        },
        () => helloClient.get(),
      ],
      { workers: [1, concurrency, concurrency], seconds },
    );
    report(
      'scim.create.pglite',
      createRate,
      'req/s',
      rawRate,
      'raw PGlite INSERT txn',
      CREATE_GOAL,
    );
    report(
      'scim.create.pglite.vs-hello',
      createRate,
      'req/s',
      helloRate,
      'express hello',
      CREATE_GOAL,
    );
  } finally {
    client.close();
    helloClient.close();
    await scim.close();
    await hello.close();
    await database.close();
    await raw.close();
  }
}
