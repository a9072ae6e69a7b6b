import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from './data-dir-lock.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});
const freshFolder = async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'roster-lock-'));
  folders.push(folder);
  return folder;
};

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid ?? -1;
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

describe('the data-folder lock', () => {
  it('takes a free folder with a 0600 pid file and gives it back on release', async () => {
    const folder = await freshFolder();
    const release = await lockDataDir(folder);
    const file = path.join(folder, LOCK_FILE);
    expect((await readFile(file, 'utf8')).trim()).toBe(String(process.pid));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await release();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a folder a live process holds, naming that process', async () => {
    const folder = await freshFolder();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(path.join(folder, LOCK_FILE), `${holder.pid}\n`);
      const attempt = lockDataDir(folder);
      await expect(attempt).rejects.toBeInstanceOf(DataDirInUseError);
      await expect(attempt).rejects.toThrow(`pid ${holder.pid}`);
    } finally {
      holder.kill();
    }
  });

  it('takes over a folder whose holder no longer exists', async () => {
    const folder = await freshFolder();
    await writeFile(path.join(folder, LOCK_FILE), `${await deadPid()}\n`);
    const release = await lockDataDir(folder);
    expect((await readFile(path.join(folder, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await release();
  });

  it('does not remove a lock another process took after ours was released', async () => {
    const folder = await freshFolder();
    const release = await lockDataDir(folder);
    await writeFile(path.join(folder, LOCK_FILE), '1\n'); // pid 1 always lives
    await release();
    expect((await readFile(path.join(folder, LOCK_FILE), 'utf8')).trim()).toBe('1');
  });
});
