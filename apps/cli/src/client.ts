import path from 'node:path';
import { readLocalServer } from '@roster/core/runtime-files';
import { ADMIN_API_ROOT } from '@roster/core/url-layouts';

/** A failure to report to the user as one line on stderr, with this exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface AdminConnection {
  readonly url: string;
  readonly token: string;
  /** Recorded as the operator on audit events (the login name, when known). */
  readonly operator: string;
}

/**
 * ROSTER_URL and ROSTER_ADMIN_TOKEN; with neither set, the embedded server's address and
 * generated token from its data folder (ROSTER_DATA_DIR, default ./.roster).
 */
export async function resolveConnection(env: NodeJS.ProcessEnv): Promise<AdminConnection> {
  const dataDir = path.resolve(env.ROSTER_DATA_DIR || '.roster');
  const local = env.ROSTER_URL && env.ROSTER_ADMIN_TOKEN ? {} : await readLocalServer(dataDir);
  const url = env.ROSTER_URL || local.info?.adminUrl;
  const token = env.ROSTER_ADMIN_TOKEN || local.adminToken;
  if (!url) {
    throw new CliError(
      `no Roster server found: none is running from ${dataDir} (start one with "npm start"), and ROSTER_URL is not set`,
    );
  }
  if (!token)
    throw new CliError("no admin token: set ROSTER_ADMIN_TOKEN to the server's admin token");
  const operator = (env.USER ?? '').replace(/[^\w.@-]/g, '').slice(0, 64) || 'cli';
  return { url: url.replace(/\/+$/, ''), token, operator };
}

/** What to do next, after the server's message, for answers that need it. */
const HINT_OF_STATUS: Readonly<Record<number, string>> = {
  // The events (or the log) asked for were pruned: EVENTS_RETENTION_DAYS passed.
  410: 'hint: events older than the retention (EVENTS_RETENTION_DAYS) are deleted; start again from the oldest kept event, without a cursor',
};

/** One admin API call; a non-2xx answer becomes a CliError carrying the server's message. */
export async function callAdmin<T>(
  connection: AdminConnection,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${connection.url}${ADMIN_API_ROOT}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        'x-roster-operator': connection.operator,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliError(`cannot reach the Roster admin API at ${connection.url}: ${cause}`);
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { message?: string; requestId?: string } } | undefined)
      ?.error;
    const requestId = error?.requestId ? ` (request id ${error.requestId})` : '';
    const hint = HINT_OF_STATUS[response.status];
    throw new CliError(
      `${response.status} ${error?.message ?? response.statusText}${requestId}${hint ? `\n${hint}` : ''}`,
    );
  }
  return parsed as T;
}
