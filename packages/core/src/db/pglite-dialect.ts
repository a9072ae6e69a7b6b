import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/**
 * A kysely dialect over one in-process PGlite instance.
 *
 * PGlite is a single PostgreSQL session on the main thread, so two kysely "connections" would
 * share one session and interleave their transactions. The driver hands out the session to one
 * holder at a time, in FIFO order: a transaction owns it from BEGIN until COMMIT/ROLLBACK, and
 * single queries wait their turn. (No published kysely dialect supports pglite 0.5.)
 */
export class PGliteDialect implements Dialect {
  readonly #pglite: PGlite;
  #driver: PGliteDriver | undefined;
  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }
  /** How many callers wait for the session (exported as a metric). */
  get waiting(): number {
    return this.#driver?.waiting ?? 0;
  }
  createAdapter(): DialectAdapter {
    return new PGliteAdapter();
  }
  createDriver(): Driver {
    this.#driver = new PGliteDriver(this.#pglite);
    return this.#driver;
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/**
 * Migrations on PGlite need no advisory lock: the data folder belongs to one process, and the
 * driver already serialises every transaction.
 */
class PGliteAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
}

/** FIFO mutex: `acquire()` resolves with a release function once every earlier holder released. */
class SessionLock {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;
  get waiting(): number {
    return this.#waiting;
  }
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    this.#waiting++;
    await previous;
    this.#waiting--;
    return release;
  }
}

/**
 * How long the session may be handed from holder to holder without the event loop turning. A
 * turn on every hold would cost a third of the throughput of short transactions; one every few
 * milliseconds costs nothing measurable and keeps another tenant's wait that short.
 */
const MAX_MS_WITHOUT_EVENT_LOOP_TURN = 5;

class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #lock = new SessionLock();
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();
  /** When the event loop last turned (as seen by a check-phase callback of ours). */
  #lastTurn = performance.now();
  #turnNoted = false;

  /** Records the next turn of the event loop, whenever it comes. */
  #noteNextTurn(): void {
    if (this.#turnNoted) return;
    this.#turnNoted = true;
    setImmediate(() => {
      this.#turnNoted = false;
      this.#lastTurn = performance.now();
    });
  }

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  get waiting(): number {
    return this.#lock.waiting;
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#pglite.closed) throw new Error('the embedded database is closed');
    // PGlite answers within promise callbacks, never through the event loop: long work (a /Bulk
    // of 1,000 transactions, a purge in batches) would take the session again and again without
    // ever letting Node read another request, and every other caller would wait for all of it.
    // When the loop has not turned for a while, let it turn first: requests that arrived meanwhile
    // then queue for the session like everyone else (FIFO).
    if (performance.now() - this.#lastTurn > MAX_MS_WITHOUT_EVENT_LOOP_TURN)
      await new Promise<void>((resolve) => setImmediate(resolve));
    this.#noteNextTurn();
    const release = await this.#lock.acquire();
    const connection = new PGliteConnection(this.#pglite);
    this.#releases.set(connection, release);
    return connection;
  }

  async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings,
  ): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    const access = settings.accessMode ? ` ${settings.accessMode}` : '';
    await connection.executeQuery(CompiledQuery.raw(`begin${isolation}${access}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(
      CompiledQuery.raw(`rollback to savepoint ${quoteIdentifier(name)}`),
    );
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdentifier(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A holder that gives the session back mid-transaction (it threw between BEGIN and
    // COMMIT outside kysely's own transaction helper) must not leak it to the next holder.
    if (this.#pglite.isInTransaction()) {
      await this.#pglite.exec('rollback');
    }
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
  }

  async destroy(): Promise<void> {
    const release = await this.#lock.acquire();
    try {
      if (!this.#pglite.closed) await this.#pglite.close();
    } finally {
      release();
    }
  }
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const numAffectedRows =
      result.affectedRows === undefined ? undefined : BigInt(result.affectedRows);
    return numAffectedRows === undefined
      ? { rows: result.rows }
      : { rows: result.rows, numAffectedRows };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not support streaming queries');
  }
}
