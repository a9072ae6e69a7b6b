import type { Kysely, Transaction } from 'kysely';
import { PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE, sqlState } from '../errors.js';
import type { Database } from './database.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

const RETRYABLE = new Set([PG_SERIALIZATION_FAILURE, PG_DEADLOCK_DETECTED]);

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
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= attempts || state === undefined || !RETRYABLE.has(state)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
