import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
export async function ensureAdminTokenFile(
  dataDir: string,
): Promise<{ token: string; created: boolean; file: string }> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = (await readOptional(file))?.trim();
  if (existing) return { token: existing, created: false, file };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = `roster_admin_${randomBytes(32).toString('base64url')}`;
  // Write aside, then link into place: the file only ever appears complete, and a token another
  // process placed a moment ago is never overwritten.
  const staged = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(staged, `${token}\n`, { mode: 0o600 });
  try {
    await link(staged, file);
    return { token, created: true, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = (await readOptional(file))?.trim();
    if (winner) return { token: winner, created: false, file };
    // An empty file (a crash before this scheme, or `touch`): replace it.
    await rename(staged, file);
    return { token, created: true, file };
  } finally {
    await rm(staged, { force: true });
  }
}

export async function writeServerInfo(dataDir: string, info: ServerInfo): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Write aside and rename, so a reader never sees half a file.
  const file = path.join(dataDir, SERVER_INFO_FILE);
  const staged = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(staged, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(staged, file);
}

export async function removeServerInfo(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, SERVER_INFO_FILE), { force: true });
}

/** What the embedded server left in `dataDir`, if it is running there. */
export async function readLocalServer(
  dataDir: string,
): Promise<{ info?: ServerInfo; adminToken?: string }> {
  const [info, token] = await Promise.all([
    readOptional(path.join(dataDir, SERVER_INFO_FILE)),
    readOptional(path.join(dataDir, ADMIN_TOKEN_FILE)),
  ]);
  const parsed = info ? parseServerInfo(info) : undefined;
  return {
    ...(parsed ? { info: parsed } : {}),
    ...(token?.trim() ? { adminToken: token.trim() } : {}),
  };
}

/** A server.json that does not parse or lacks the admin URL counts as absent. */
function parseServerInfo(text: string): ServerInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<ServerInfo>;
    return typeof value.adminUrl === 'string' ? (value as ServerInfo) : undefined;
  } catch {
    return undefined;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
