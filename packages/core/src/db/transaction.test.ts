import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreError, sqlState } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { inTransaction, type Db, type Tx } from './transaction.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(async () => {
  await database.close();
});

/** Makes the database itself abort the statement with this SQLSTATE (a real driver error). */
async function raiseInDatabase(
  tx: Tx,
  errcode: 'serialization_failure' | 'deadlock_detected',
): Promise<never> {
  await sql
    .raw(`do $$ begin raise exception 'simulated ${errcode}' using errcode = '${errcode}'; end $$`)
    .execute(tx);
  throw new Error('the database did not raise');
}

async function slugCount(slug: string): Promise<number> {
  const rows = await db.selectFrom('tenants').select('id').where('slug', '=', slug).execute();
  return rows.length;
}

/** Runs `work` through inTransaction and reports how it ended and how often it ran. */
async function run<T>(work: (tx: Tx, attempt: number) => Promise<T>, attempts?: number) {
  let calls = 0;
  const outcome = await inTransaction(
    db,
    (tx) => {
      calls += 1;
      return work(tx, calls);
    },
    ...(attempts === undefined ? [] : [attempts]),
  ).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { ...outcome, calls };
}

describe('inTransaction', () => {
  it('commits the work and returns its result', async () => {
    const result = await run(async (tx) => {
      await tx.insertInto('tenants').values({ slug: 'committed-a' }).execute();
      await tx.insertInto('tenants').values({ slug: 'committed-b' }).execute();
      return 'done';
    });
    expect(result).toMatchObject({ ok: true, value: 'done', calls: 1 });
    expect(await slugCount('committed-a')).toBe(1);
    expect(await slugCount('committed-b')).toBe(1);
  });

  it('rolls everything back and rethrows the same error when the work throws', async () => {
    const boom = new Error('boom');
    const result = await run(async (tx) => {
      await tx.insertInto('tenants').values({ slug: 'rolled-back-a' }).execute();
      await tx.insertInto('tenants').values({ slug: 'rolled-back-b' }).execute();
      throw boom;
    });
    expect(result).toMatchObject({ ok: false, error: boom, calls: 1 });
    expect(await slugCount('rolled-back-a')).toBe(0);
    expect(await slugCount('rolled-back-b')).toBe(0);
  });

  it('rolls back when a statement fails in the database', async () => {
    await db.insertInto('tenants').values({ slug: 'existing' }).execute();
    const result = await run(async (tx) => {
      await tx.insertInto('tenants').values({ slug: 'before-the-failure' }).execute();
      await tx.insertInto('tenants').values({ slug: 'existing' }).execute();
    });
    expect(result.ok).toBe(false);
    expect(sqlState(result.ok ? undefined : result.error)).toBe('23505');
    expect(await slugCount('before-the-failure')).toBe(0);
  });

  it('runs the work again after a serialisation failure raised by the database, keeping only the last attempt', async () => {
    const result = await run(async (tx, attempt) => {
      await tx.insertInto('tenants').values({ slug: 'serialisation-retry' }).execute();
      if (attempt < 3) await raiseInDatabase(tx, 'serialization_failure');
      return attempt;
    });
    expect(result).toMatchObject({ ok: true, value: 3, calls: 3 });
    expect(await slugCount('serialisation-retry')).toBe(1);
  });

  it('runs the work again after a deadlock raised by the database', async () => {
    const result = await run(async (tx, attempt) => {
      await tx.insertInto('tenants').values({ slug: 'deadlock-retry' }).execute();
      if (attempt === 1) await raiseInDatabase(tx, 'deadlock_detected');
      return attempt;
    });
    expect(result).toMatchObject({ ok: true, value: 2, calls: 2 });
    expect(await slugCount('deadlock-retry')).toBe(1);
  });

  it('retries any error carrying SQLSTATE 40001, not only driver errors', async () => {
    const result = await run(async (tx, attempt) => {
      await tx.insertInto('tenants').values({ slug: 'code-retry' }).execute();
      if (attempt <= 2)
        throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'ok';
    });
    expect(result).toMatchObject({ ok: true, value: 'ok', calls: 3 });
    expect(await slugCount('code-retry')).toBe(1);
  });

  it('gives up after 5 attempts by default and rethrows the last serialisation failure', async () => {
    const result = await run(async (tx) => {
      await tx.insertInto('tenants').values({ slug: 'never-succeeds' }).execute();
      await raiseInDatabase(tx, 'serialization_failure');
    });
    expect(result.calls).toBe(5);
    expect(result.ok).toBe(false);
    expect(sqlState(result.ok ? undefined : result.error)).toBe('40001');
    expect(await slugCount('never-succeeds')).toBe(0);
  });

  it.each([1, 2, 7])('makes exactly %i attempts when told to', async (attempts) => {
    const result = await run(
      () => Promise.reject(Object.assign(new Error('conflict'), { code: '40P01' })),
      attempts,
    );
    expect(result.ok).toBe(false);
    expect(result.calls).toBe(attempts);
  });

  it('does not retry errors that are not serialisation failures or deadlocks', async () => {
    const cases: unknown[] = [
      new Error('plain'),
      new CoreError('Conflict', 'already exists'),
      Object.assign(new Error('unique'), { code: '23505' }),
      Object.assign(new Error('numeric code'), { code: 40001 }),
      'a string',
    ];
    for (const thrown of cases) {
      const result = await run(() => Promise.reject(thrown as Error));
      expect(result).toMatchObject({ ok: false, calls: 1 });
      expect(result.ok ? undefined : result.error).toBe(thrown);
    }
  });

  it('does not retry a unique violation raised by the database', async () => {
    await db.insertInto('tenants').values({ slug: 'taken-once' }).execute();
    const result = await run(async (tx) => {
      await tx.insertInto('tenants').values({ slug: 'taken-once' }).execute();
    });
    expect(result.calls).toBe(1);
    expect(sqlState(result.ok ? undefined : result.error)).toBe('23505');
  });
});
