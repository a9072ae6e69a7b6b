import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Files the embedded server keeps in its data folder so that `roster` finds it with no
 * configuration: the generated admin token (mode 0600) and where the server listens.
 */
export const ADMIN_TOKEN_FILE = 'admin-token';
export const SERVER_INFO_FILE = 'server.json';

export interface ServerInfo {
  readonly pid: number;
  readonly adminUrl: string;
  readonly scimBaseUrl: string;
  readonly ssoBaseUrl: string;
  readonly startedAt: string;
}

/**
 * Returns the admin token kept in the data folder, generating it on the first start.
 * `created` tells the caller to print the getting-started message.
 */
export async function ensureAdminTokenFile(dataDir: string): Promise<{ token: string; created: boolean; file: string }> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readOptional(file);
  if (existing?.trim()) return { token: existing.trim(), created: false, file };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = `roster_admin_${randomBytes(32).toString('base64url')}`;
  // 'wx': never overwrite a token another instance wrote a moment ago.
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return ensureAdminTokenFile(dataDir);
    throw error;
  }
  return { token, created: true, file };
}

export async function writeServerInfo(dataDir: string, info: ServerInfo): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dataDir, SERVER_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export async function removeServerInfo(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, SERVER_INFO_FILE), { force: true });
}

/** What the embedded server left in `dataDir`, if it is running there. */
export async function readLocalServer(dataDir: string): Promise<{ info?: ServerInfo; adminToken?: string }> {
  const [info, token] = await Promise.all([
    readOptional(path.join(dataDir, SERVER_INFO_FILE)),
    readOptional(path.join(dataDir, ADMIN_TOKEN_FILE)),
  ]);
  return {
    ...(info ? { info: JSON.parse(info) as ServerInfo } : {}),
    ...(token?.trim() ? { adminToken: token.trim() } : {}),
  };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
