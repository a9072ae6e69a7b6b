import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type RosterDatabase } from './create-db.js';

// The dialect itself, on a bare in-memory PGlite (no migrations needed).
describe('PGlite dialect', () => {
  let database: RosterDatabase;
  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite-memory' });
    await sql`create table counter (id int primary key, n int not null)`.execute(database.db);
    await sql`insert into counter values (1, 0)`.execute(database.db);
  });
  afterAll(() => database.close());

  it('serialises concurrent transactions so none sees another half-done', async () => {
    const db = database.db;
    // Each transaction reads, yields to the event loop, then writes read+1. Interleaved on one
    // session this would lose updates (or hit "already in a transaction"); serialised, none is lost.
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db.transaction().execute(async (tx) => {
          const { n } = await sql<{ n: number }>`select n from counter where id = 1`
            .execute(tx)
            .then((r) => r.rows[0] ?? { n: -1 });
          await new Promise((resolve) => setImmediate(resolve));
          await sql`update counter set n = ${n + 1} where id = 1`.execute(tx);
        }),
      ),
    );
    const { rows } = await sql<{ n: number }>`select n from counter where id = 1`.execute(db);
    expect(rows[0]?.n).toBe(50);
  });

  it('rolls a failed transaction back and keeps serving the others', async () => {
    const db = database.db;
    const failing = db.transaction().execute(async (tx) => {
      await sql`update counter set n = -100 where id = 1`.execute(tx);
      throw new Error('boom');
    });
    const reading = sql<{ n: number }>`select n from counter where id = 1`.execute(db);
    await expect(failing).rejects.toThrow('boom');
    expect((await reading).rows[0]?.n).toBe(50);
    expect(
      await sql<{ n: number }>`select n from counter where id = 1`
        .execute(db)
        .then((r) => r.rows[0]?.n),
    ).toBe(50);
  });

  it('supports savepoints inside a transaction', async () => {
    const db = database.db;
    const tx = await db.startTransaction().execute();
    await sql`update counter set n = 60 where id = 1`.execute(tx);
    const sp = await tx.savepoint('before_bad').execute();
    await sql`update counter set n = 999 where id = 1`.execute(sp);
    await sp.rollbackToSavepoint('before_bad').execute();
    await tx.commit().execute();
    expect(
      await sql<{ n: number }>`select n from counter where id = 1`
        .execute(db)
        .then((r) => r.rows[0]?.n),
    ).toBe(60);
  });

  it('reports rows affected and queue length', async () => {
    const result = await database.db
      .updateTable('counter' as never)
      .set({ n: 61 } as never)
      .executeTakeFirst();
    expect(result.numUpdatedRows).toBe(1n);
    expect(database.stats()).toEqual({ engine: 'pglite', total: 1, idle: 1, waiting: 0 });
  });
});
