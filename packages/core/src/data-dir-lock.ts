import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const LOCK_FILE = 'roster.pid';

/** Another live process already uses this data folder. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `another Roster process (pid ${pid}) is already using the embedded database in ${dataDir}; stop it first, or give this one its own ROSTER_DATA_DIR`,
    );
    this.pid = pid;
  }
}

/**
 * The embedded database is one PostgreSQL instance inside one process: a second process on the
 * same folder would corrupt it. Take the folder with an exclusive pid file; a file left by a
 * process that no longer exists is taken over.
 *
 * @returns a function that releases the folder.
 */
export async function lockDataDir(
  dataDir: string,
  pid = process.pid,
): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        const holder = await readHolder(file);
        if (holder === pid) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(file);
      if (holder !== undefined && holder !== pid && isAlive(holder))
        throw new DataDirInUseError(dataDir, holder);
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock the data folder ${dataDir}`);
}

async function readHolder(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
