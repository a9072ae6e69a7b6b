import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

/** Resolves with the first `count` notifications received, as `channel:payload`. */
function collect(count: number) {
  const received: string[] = [];
  let done: (value: string[]) => void = () => undefined;
  const all = new Promise<string[]>((resolve) => (done = resolve));
  const onNotify = (payload: string | undefined, channel?: string) => {
    received.push(`${channel}:${payload}`);
    if (received.length === count) done([...received]);
  };
  return { onNotify, all };
}

describe('database.listen', () => {
  it('takes several channels at once and says which one each notification came on', async () => {
    const { onNotify, all } = collect(3);
    const stop = await database.listen(['listen_test_a', 'listen_test_b'], onNotify);
    try {
      await database.db.transaction().execute(async (tx) => {
        await sql`select pg_notify('listen_test_a', 'one')`.execute(tx);
        await sql`select pg_notify('listen_test_other', 'ignored')`.execute(tx);
        await sql`select pg_notify('listen_test_b', 'two')`.execute(tx);
      });
      await sql`select pg_notify('listen_test_a', 'three')`.execute(database.db);
      expect((await all).sort()).toEqual(
        ['listen_test_a:one', 'listen_test_b:two', 'listen_test_a:three'].sort(),
      );
    } finally {
      await stop();
    }
  });

  it('still takes one channel by name', async () => {
    const { onNotify, all } = collect(1);
    const stop = await database.listen('listen_test_single', onNotify);
    try {
      await sql`select pg_notify('listen_test_single', 'x')`.execute(database.db);
      expect(await all).toEqual(['listen_test_single:x']);
    } finally {
      await stop();
    }
  });
});
