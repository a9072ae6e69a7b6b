// The example's only reader of the environment: where Roster is and who this app is to it
// (the values `roster app add --json` prints), and where this app itself is reached.
export interface AppConfig {
  /** The tenant's issuer, e.g. `http://localhost:8081/oidc/acme` (`issuer` in the CLI output). */
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** This app's public base URL; its callback is `<APP_BASE_URL>/callback`. */
  readonly appBaseUrl: string;
  readonly port: number;
}

const DEFAULT_PORT = 3000;

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const missing = ['ISSUER', 'CLIENT_ID', 'CLIENT_SECRET'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`set ${missing.join(', ')} (printed by roster app add)`);
  const port = env.PORT ? Number(env.PORT) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('PORT must be a port number, 0-65535');
  const appBaseUrl = (env.APP_BASE_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  return {
    issuer: new URL(String(env.ISSUER)),
    clientId: String(env.CLIENT_ID),
    clientSecret: String(env.CLIENT_SECRET),
    appBaseUrl: new URL(appBaseUrl).href.replace(/\/+$/, ''),
    port,
  };
}
