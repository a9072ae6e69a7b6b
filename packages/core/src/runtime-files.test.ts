import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_FILE,
  ensureAdminTokenFile,
  readLocalServer,
  removeServerInfo,
  SERVER_INFO_FILE,
  writeServerInfo,
  type ServerInfo,
} from './runtime-files.js';

const ADMIN_TOKEN = /^roster_admin_[A-Za-z0-9_-]{43}$/;

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'roster-runtime-files-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const info: ServerInfo = {
  pid: 4242,
  adminUrl: 'http://127.0.0.1:8082',
  scimBaseUrl: 'http://localhost:8080',
  ssoBaseUrl: 'http://localhost:8081',
  startedAt: '2026-01-01T00:00:00.000Z',
};

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe('ensureAdminTokenFile', () => {
  it('creates the folder and a 0600 file holding a roster_admin_ token on the first call', async () => {
    const dataDir = path.join(scratch, 'nested', 'data');
    const result = await ensureAdminTokenFile(dataDir);
    expect(result.created).toBe(true);
    expect(result.token).toMatch(ADMIN_TOKEN);
    expect(result.file).toBe(path.join(dataDir, ADMIN_TOKEN_FILE));
    expect(await readFile(result.file, 'utf8')).toBe(`${result.token}\n`);
    expect(await modeOf(result.file)).toBe(0o600);
    expect(await modeOf(dataDir)).toBe(0o700);
  });

  it('returns the same token with created:false on later calls', async () => {
    const first = await ensureAdminTokenFile(scratch);
    const second = await ensureAdminTokenFile(scratch);
    const third = await ensureAdminTokenFile(scratch);
    expect(first.created).toBe(true);
    expect(second).toEqual({ token: first.token, created: false, file: first.file });
    expect(third).toEqual(second);
  });

  // Regression: an empty file (a crash mid-write, or `touch`) used to make this loop forever.
  it('replaces an empty or blank admin-token file with a new token', async () => {
    for (const blank of ['', '  \n']) {
      const folder = await mkdtemp(path.join(scratch, 'blank-'));
      await writeFile(path.join(folder, ADMIN_TOKEN_FILE), blank);
      const result = await ensureAdminTokenFile(folder);
      expect(result).toMatchObject({ token: expect.stringMatching(ADMIN_TOKEN), created: true });
      expect((await readFile(path.join(folder, ADMIN_TOKEN_FILE), 'utf8')).trim()).toBe(
        result.token,
      );
      expect(await modeOf(path.join(folder, ADMIN_TOKEN_FILE))).toBe(0o600);
    }
  });

  it('keeps a token someone already wrote there, trimmed', async () => {
    await writeFile(path.join(scratch, ADMIN_TOKEN_FILE), '  my-own-operator-token-0123456789  \n');
    expect(await ensureAdminTokenFile(scratch)).toMatchObject({
      token: 'my-own-operator-token-0123456789',
      created: false,
    });
  });

  it('generates a different token in each folder', async () => {
    const a = await ensureAdminTokenFile(path.join(scratch, 'a'));
    const b = await ensureAdminTokenFile(path.join(scratch, 'b'));
    expect(a.token).not.toBe(b.token);
  });

  it('gives all of 10 parallel calls on a fresh folder the same token, created exactly once', async () => {
    const dataDir = path.join(scratch, 'fresh');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => ensureAdminTokenFile(dataDir)),
    );
    const tokens = new Set(results.map((r) => r.token));
    expect(tokens.size).toBe(1);
    const [token] = [...tokens];
    expect(token).toMatch(ADMIN_TOKEN);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await readFile(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).toBe(`${token}\n`);
  });
});

describe('server info', () => {
  it('reads an empty folder as nothing running', async () => {
    expect(await readLocalServer(scratch)).toEqual({});
  });

  it('reads a folder that does not exist as nothing running', async () => {
    expect(await readLocalServer(path.join(scratch, 'missing'))).toEqual({});
  });

  it('round-trips through writeServerInfo, readLocalServer and removeServerInfo', async () => {
    const dataDir = path.join(scratch, 'data');
    await writeServerInfo(dataDir, info);
    expect(await modeOf(path.join(dataDir, SERVER_INFO_FILE))).toBe(0o600);
    expect(await readLocalServer(dataDir)).toEqual({ info });

    const { token } = await ensureAdminTokenFile(dataDir);
    expect(await readLocalServer(dataDir)).toEqual({ info, adminToken: token });

    await removeServerInfo(dataDir);
    expect(await readLocalServer(dataDir)).toEqual({ adminToken: token });
  });

  it('replaces the info of an earlier start', async () => {
    await writeServerInfo(scratch, info);
    const restarted = { ...info, pid: 4343, startedAt: '2026-01-02T00:00:00.000Z' };
    await writeServerInfo(scratch, restarted);
    expect(await readLocalServer(scratch)).toEqual({ info: restarted });
  });

  it('removes server info that is not there without complaint', async () => {
    await expect(removeServerInfo(scratch)).resolves.toBeUndefined();
    await expect(removeServerInfo(path.join(scratch, 'missing'))).resolves.toBeUndefined();
  });

  it('reads a server.json that is cut short or has no admin URL as nothing running', async () => {
    await writeFile(path.join(scratch, SERVER_INFO_FILE), '{"pid": 12, "adminUr');
    expect(await readLocalServer(scratch)).toEqual({});
    await writeFile(path.join(scratch, SERVER_INFO_FILE), '{"pid": 12}');
    expect(await readLocalServer(scratch)).toEqual({});
  });

  it('leaves no staging files behind', async () => {
    await writeServerInfo(scratch, info);
    await ensureAdminTokenFile(scratch);
    expect((await readdir(scratch)).sort()).toEqual([ADMIN_TOKEN_FILE, SERVER_INFO_FILE].sort());
  });

  it('ignores an admin-token file that is empty', async () => {
    await writeFile(path.join(scratch, ADMIN_TOKEN_FILE), '\n');
    expect(await readLocalServer(scratch)).toEqual({});
  });
});
