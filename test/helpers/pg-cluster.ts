// A throwaway PostgreSQL cluster for the fault tests (journey 7): made in a temporary
// folder with the installed server binaries, on its own port and socket folder, so stopping and
// starting it never disturbs the shared server other tests use. initdb refuses to run as root, so
// when the tests run as root the binaries run as the `postgres` system user (runuser).
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes.js';

const run = promisify(execFile);

/** Where Debian/Ubuntu install the PostgreSQL 15 server binaries (overridable for other hosts). */
export const POSTGRES_BIN_DIR = process.env.ROSTER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** Longest a start or stop of the cluster may take. */
const PG_CTL_TIMEOUT_SECONDS = 60;

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** `pg_ctl stop -m fast`: every connection is cut, the server is down until `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster (if running) and removes its folder; safe to call more than once. */
  destroy(): Promise<void>;
}

async function runAs(user: string | undefined, binary: string, args: string[]): Promise<string> {
  const file = path.join(POSTGRES_BIN_DIR, binary);
  const [command, commandArgs] =
    user === undefined ? [file, args] : ['runuser', ['-u', user, '--', file, ...args]];
  try {
    const { stdout, stderr } = await run(command, commandArgs, { timeout: 120_000 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${e.message}\n${e.stdout}\n${e.stderr}`, {
      cause: error,
    });
  }
}

/** Makes and starts a new cluster; throws a clear error when this host cannot make one. */
export async function startPgCluster(): Promise<PgCluster> {
  if (!existsSync(path.join(POSTGRES_BIN_DIR, 'initdb')))
    throw new Error(
      `no PostgreSQL server binaries in ${POSTGRES_BIN_DIR} (set ROSTER_TEST_PG_BIN): ` +
        'the fault tests need initdb and pg_ctl to run their own cluster',
    );
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? 'postgres' : undefined;
  const dir = await mkdtemp(path.join(tmpdir(), 'roster-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const port = await freePort();
  let running = false;
  const pgCtl = (...args: string[]) =>
    runAs(user, 'pg_ctl', ['-D', dataDir, '-w', '-t', String(PG_CTL_TIMEOUT_SECONDS), ...args]);
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async start() {
      await pgCtl(
        '-l',
        logFile,
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
        'start',
      );
      running = true;
    },
    async stop() {
      await pgCtl('-m', 'fast', 'stop');
      running = false;
    },
    async destroy() {
      try {
        if (running) await cluster.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    if (asRoot) {
      // initdb refuses root: the folder belongs to `postgres`, which runs every binary.
      const ids = await run('id', ['-u', 'postgres']).catch(() => {
        throw new Error('running as root but there is no `postgres` user to run initdb as');
      });
      const gid = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    }
    await runAs(user, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    await cluster.start();
  } catch (error) {
    await cluster.destroy().catch(() => undefined);
    throw new Error(`could not make a PostgreSQL cluster for the fault tests: ${String(error)}`, {
      cause: error,
    });
  }
  return cluster;
}
