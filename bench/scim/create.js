// scim.create: POST /Users at 8 concurrent clients, beside express 5 hello on the same machine
// and raw single-row INSERT transactions through kysely on the same database.
import { sql } from 'kysely';
import { pairedRates, rate } from '../lib/measure.js';
import { HelloClient, ScimClient } from './http-client.js';
import { createBenchTenant } from './environment.js';
import { CREATE_GOAL } from './create-pglite.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** An Entra-like POST /Users body for user number `id` of a run. */
export function newUserBody(prefix, id) {
  const userName = `${prefix}.${id}@New.Example`;
  return {
    schemas: [USER_SCHEMA],
    userName,
    externalId: `${prefix}-ext-${id}`,
    active: true,
    displayName: `New User ${id}`,
    name: { givenName: 'New', familyName: `User ${id}` },
    emails: [{ value: `${prefix}.mail.${id}@new.example`, type: 'work', primary: true }],
  };
}

/** express 5 hello at `concurrency` keep-alive clients, req/s: the reference for request rates. */
export async function measureHelloRate(hello, { seconds, concurrency }) {
  const helloClient = new HelloClient(hello.port, concurrency);
  try {
    return await rate(() => helloClient.get(), { workers: concurrency, seconds });
  } finally {
    helloClient.close();
  }
}

/**
 * Measures in alternating slices (perf notes: the box is shared) and reports; returns the
 * express hello rate, the reference of other request-rate figures.
 */
export async function benchCreate({ env, scim, hello, report, seconds, concurrency }) {
  const tenant = await createBenchTenant(env.database, 'create');
  const client = new ScimClient(scim.port, tenant.slug, tenant.token, concurrency);
  const helloClient = new HelloClient(hello.port, concurrency);
  await sql`create table bench_insert_txn (id int primary key, v text)`.execute(env.database.db);
  try {
    const [helloRate, createRate, insertRate] = await pairedRates(
      [
        () => helloClient.get(),
        async (id) => {
          await client.expect([201], 'POST', '/Users', newUserBody('c', id));
        },
        (id) =>
          env.database.db
            .transaction()
            .execute((tx) => sql`insert into bench_insert_txn values (${id}, 'x')`.execute(tx)),
      ],
      { workers: concurrency, seconds },
    );
    report('scim.create', createRate, 'req/s', helloRate, 'express hello', CREATE_GOAL);
    report('scim.create.vs-insert-txn', createRate, 'req/s', insertRate, 'kysely INSERT txn');
    return { helloRate };
  } finally {
    await sql`drop table bench_insert_txn`.execute(env.database.db);
    client.close();
    helloClient.close();
  }
}
