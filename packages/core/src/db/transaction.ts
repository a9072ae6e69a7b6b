import type { Kysely, Transaction } from 'kysely';
import {
  PG_DEADLOCK_DETECTED,
  PG_SERIALIZATION_FAILURE,
  PG_UNIQUE_VIOLATION,
  sqlState,
} from '../errors.js';
import type { Database } from './database.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

const RETRYABLE = new Set([PG_SERIALIZATION_FAILURE, PG_DEADLOCK_DETECTED]);
const RETRYABLE_WITH_UNIQUE = new Set([...RETRYABLE, PG_UNIQUE_VIOLATION]);

/**
 * Runs `work` in one transaction, retrying it (a bounded number of times, with jitter) when
 * PostgreSQL aborts it for a serialisation failure or a deadlock. `work` must be safe to run
 * again: it may only touch the database through `tx`.
 */
export async function inTransaction<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  attempts = 5,
): Promise<T> {
  return runWithRetries(db, work, attempts, RETRYABLE);
}

/**
 * Like {@link inTransaction}, and a unique violation also runs `work` again. For use cases that
 * look for a row, lock what they found and insert when nothing was there: a concurrent insert of
 * the same key commits first, and the next attempt finds (and locks) that row instead.
 * Uniqueness stays with the index; this only turns the race into the right answer.
 */
export async function inTransactionRetryingRaces<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  attempts = 5,
): Promise<T> {
  return runWithRetries(db, work, attempts, RETRYABLE_WITH_UNIQUE);
}

async function runWithRetries<T>(
  db: Db,
  work: (tx: Tx) => Promise<T>,
  attempts: number,
  retryable: ReadonlySet<string>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= attempts || state === undefined || !retryable.has(state)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
