import path from 'node:path';
import { type z } from 'zod';
import { environmentSchema } from './config.schema.js';

/** Where the data lives: a PostgreSQL server, or PGlite in a folder (or in memory, for tests). */
export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number }
  | { readonly kind: 'pglite'; readonly dataDir: string }
  | { readonly kind: 'pglite-memory' };

export interface RosterConfig {
  readonly database: DatabaseTarget;
  /** Folder for the embedded database, the generated admin token and the server's address file. */
  readonly dataDir: string;
  readonly host: string;
  readonly scim: { readonly port: number; readonly baseUrl: string };
  readonly sso: { readonly port: number; readonly baseUrl: string } & SamlSettings;
  readonly admin: {
    readonly host: string;
    readonly port: number;
    readonly token: string | undefined;
  };
  readonly logLevel: z.output<typeof environmentSchema>['LOG_LEVEL'];
  readonly shutdownTimeoutMs: number;
  /** How often cleanup and purge run inside the server; 0 = never (run `roster purge`). */
  readonly jobsIntervalMs: number;
  /** Days the SCIM request log keeps an entry; 0 = the log is off (nothing is recorded). */
  readonly scimLogRetentionDays: number;
  /** Per-tenant SCIM rate limit of each process; null = off. */
  readonly scimRateLimit: ScimRateLimit | null;
  readonly nodeEnv: 'development' | 'production' | 'test';
}

/**
 * Per tenant and process: at most `burst` requests in each window of `burst / perSecond`
 * seconds, so `perSecond` sustained and `burst` at once (a token bucket refilled a window at a time).
 */
export interface ScimRateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** The SAML service provider's checks and session lifetimes (apps/sso). */
export interface SamlSettings {
  /** Allowed clock difference with the IdP for NotBefore/NotOnOrAfter. */
  readonly clockSkewMs: number;
  /** Oldest assertion accepted, from its IssueInstant, whatever its NotOnOrAfter says. */
  readonly maxAssertionAgeMs: number;
  /** How long an AuthnRequest waits for its answer. */
  readonly requestTtlMs: number;
  readonly sessionIdleTimeoutMs: number;
  readonly sessionAbsoluteTimeoutMs: number;
  /** PEM files of the SP key pair (decrypts assertions, signs requests); both or neither. */
  readonly spPrivateKeyFile: string | undefined;
  readonly spCertificateFile: string | undefined;
}

/** Thrown when the environment does not pass the schema; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * Parses the environment into a frozen config. The only reader of `process.env` in Roster.
 *
 * @example
 * const config = loadConfig(); // throws ConfigError: "SCIM_PORT: must be ..." on a bad value
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RosterConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = issue.path.join('.') || '(environment)';
        const received = env[variable];
        const shown =
          received === undefined || /TOKEN|URL/.test(variable) ? '' : ` (got "${received}")`;
        return `${variable}: ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.ROSTER_DATA_DIR);
  const database: DatabaseTarget = e.DATABASE_URL
    ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX }
    : { kind: 'pglite', dataDir: path.join(dataDir, 'db') };
  return Object.freeze({
    database,
    dataDir,
    host: e.HOST,
    scim: Object.freeze({ port: e.SCIM_PORT, baseUrl: e.SCIM_BASE_URL }),
    sso: Object.freeze({
      port: e.SSO_PORT,
      baseUrl: e.SSO_BASE_URL,
      clockSkewMs: e.SAML_CLOCK_SKEW_MS,
      maxAssertionAgeMs: e.SAML_MAX_ASSERTION_AGE_MS,
      requestTtlMs: e.SAML_REQUEST_TTL_MS,
      sessionIdleTimeoutMs: e.SSO_SESSION_IDLE_TIMEOUT_MS,
      sessionAbsoluteTimeoutMs: e.SSO_SESSION_ABSOLUTE_TIMEOUT_MS,
      spPrivateKeyFile: e.SSO_SP_PRIVATE_KEY_FILE,
      spCertificateFile: e.SSO_SP_CERTIFICATE_FILE,
    }),
    admin: Object.freeze({ host: e.ADMIN_HOST, port: e.ADMIN_PORT, token: e.ROSTER_ADMIN_TOKEN }),
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    jobsIntervalMs: e.ROSTER_JOBS_INTERVAL_MS,
    scimLogRetentionDays: e.SCIM_LOG_RETENTION_DAYS,
    scimRateLimit:
      e.SCIM_RATE_LIMIT_PER_SECOND > 0 && e.SCIM_RATE_LIMIT_BURST > 0
        ? Object.freeze({ perSecond: e.SCIM_RATE_LIMIT_PER_SECOND, burst: e.SCIM_RATE_LIMIT_BURST })
        : null,
    nodeEnv: e.NODE_ENV,
  });
}
