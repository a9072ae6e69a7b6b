// `npm start` as a real process on a PostgreSQL database the test made: every app on its own
// free port, the delivery and webhook workers running, outbound calls allowed to loopback (where
// the test's receivers listen).
import {
  cleanEnv,
  ENTRY,
  freePort,
  startProcess,
  waitUntilReady,
  type RunningProcess,
} from './processes.js';

export const SERVER_ADMIN_TOKEN = 'roster_admin_events-e2e-0123456789abcdef';

export interface ServerProcess {
  readonly process: RunningProcess;
  readonly scimUrl: string;
  readonly adminUrl: string;
}

/**
 * Starts the launcher on `databaseUrl` (with `extraEnv` on top); resolves once every app answers
 * /readyz.
 */
export async function startServerProcess(
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const ports = { scim: await freePort(), sso: await freePort(), admin: await freePort() };
  const scimUrl = `http://127.0.0.1:${ports.scim}`;
  const started = startProcess(
    ENTRY.server,
    cleanEnv({
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      SCIM_PORT: String(ports.scim),
      SCIM_BASE_URL: scimUrl,
      SSO_PORT: String(ports.sso),
      ADMIN_PORT: String(ports.admin),
      ROSTER_ADMIN_TOKEN: SERVER_ADMIN_TOKEN,
      ROSTER_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      SCIM_RATE_LIMIT_PER_SECOND: '0',
      ...extraEnv,
    }),
  );
  await Promise.all(
    [ports.scim, ports.sso, ports.admin].map((port) =>
      waitUntilReady(`http://127.0.0.1:${port}/readyz`, started),
    ),
  );
  return { process: started, scimUrl, adminUrl: `http://127.0.0.1:${ports.admin}` };
}
