import path from 'node:path';
import { z } from 'zod';
import {
  emptyAsUndefined,
  optionalBaseUrlVariable,
  portVariable,
  textVariable,
  wholeNumberVariable,
} from './env-values.js';
import { defineConfig } from './load-config.js';
import { parseOutboundAllowHosts } from '../outbound/outbound-policy.js';
import { DEFAULT_EVENTS_RETENTION_DAYS, MAX_EVENTS_RETENTION_DAYS } from '../events/retention.js';

// The configuration every app shares, and the pieces that several apps read; each app composes
// these with its own schema (apps/<app>/src/config.ts), and `npm start` composes the apps'.

/** Log levels pino understands, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the data lives: a PostgreSQL server, or PGlite in a folder (or in memory, for tests). */
export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number }
  | { readonly kind: 'pglite'; readonly dataDir: string }
  | { readonly kind: 'pglite-memory' };

/** What every Roster process reads: its database, data folder, logging and shutdown. */
export interface BaseConfig {
  readonly database: DatabaseTarget;
  /** Folder for the embedded database, the generated admin token and the server's address file. */
  readonly dataDir: string;
  /** Where the SCIM and SSO apps listen (the admin API has ADMIN_HOST). */
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly nodeEnv: 'development' | 'production' | 'test';
  /**
   * ROSTER_OUTBOUND_ALLOW_HOSTS, checked and normalised (comma-separated addresses and CIDR
   * ranges): internal addresses Roster may still call out to (`outboundPolicyFrom`).
   */
  readonly outboundAllowHosts: string | undefined;
}

const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// or postgresql:// URL',
});

/** The base every app's schema is composed on (README, "Configuration"). */
export const baseConfigSchema = defineConfig(
  z
    .object({
      DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
      DATABASE_POOL_MAX: wholeNumberVariable(2, 200, 10),
      ROSTER_DATA_DIR: textVariable('.roster'),
      HOST: textVariable('0.0.0.0'),
      LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
      SHUTDOWN_TIMEOUT_MS: wholeNumberVariable(0, 600_000, 10_000),
      NODE_ENV: z.preprocess(
        emptyAsUndefined,
        z.enum(['development', 'production', 'test']).default('development'),
      ),
      ROSTER_OUTBOUND_ALLOW_HOSTS: z.preprocess(
        emptyAsUndefined,
        z
          .string()
          .transform((value, context) => {
            const parsed = parseOutboundAllowHosts(value);
            if ('entries' in parsed) return parsed.entries.join(',') || undefined;
            context.addIssue({ code: 'custom', message: parsed.problem });
            return z.NEVER;
          })
          .optional(),
      ),
    })
    .transform((e): BaseConfig => {
      const dataDir = path.resolve(e.ROSTER_DATA_DIR);
      return {
        database: e.DATABASE_URL
          ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX }
          : { kind: 'pglite', dataDir: path.join(dataDir, 'db') },
        dataDir,
        host: e.HOST,
        logLevel: e.LOG_LEVEL,
        shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
        nodeEnv: e.NODE_ENV,
        outboundAllowHosts: e.ROSTER_OUTBOUND_ALLOW_HOSTS,
      };
    }),
);

/** An app's port and the public base URL people and IdPs reach it at. */
export interface AppAddress {
  readonly port: number;
  readonly baseUrl: string;
}

/** `<APP>_PORT` and `<APP>_BASE_URL`; the base URL defaults to the port on localhost. */
const appAddress = <K extends string>(key: K, prefix: string, defaultPort: number) =>
  defineConfig(
    z
      .object({
        [`${prefix}_PORT`]: portVariable(defaultPort),
        [`${prefix}_BASE_URL`]: optionalBaseUrlVariable(),
      })
      .transform((e) => {
        const port = e[`${prefix}_PORT`] as number;
        const baseUrl =
          (e[`${prefix}_BASE_URL`] as string | undefined) ?? `http://localhost:${port}`;
        return { [key]: { port, baseUrl } } as { readonly [P in K]: AppAddress };
      }),
  );

/** The SCIM app's address: where it listens, and where tenants' SCIM endpoints are published. */
export const scimAddressConfigSchema = appAddress('scim', 'SCIM', 8080);
/** The SSO app's address: where it listens, and the base of every SP URL given to IdPs. */
export const ssoAddressConfigSchema = appAddress('sso', 'SSO', 8081);

/**
 * SCIM_LOG_RETENTION_DAYS (README "SCIM request log"): the SCIM app records only when it is over
 * 0, and the maintenance schedule prunes what is older.
 */
export const scimLogConfigSchema = defineConfig(
  z
    .object({ SCIM_LOG_RETENTION_DAYS: wholeNumberVariable(0, 365, 7) })
    .transform((e) => ({ scimLogRetentionDays: e.SCIM_LOG_RETENTION_DAYS })),
);

/**
 * EVENTS_RETENTION_DAYS (README "Events and webhooks"): the maintenance schedule deletes events
 * older than this, except those an enabled webhook endpoint has not delivered yet.
 */
export const eventsRetentionConfigSchema = defineConfig(
  z
    .object({
      EVENTS_RETENTION_DAYS: wholeNumberVariable(
        1,
        MAX_EVENTS_RETENTION_DAYS,
        DEFAULT_EVENTS_RETENTION_DAYS,
      ),
    })
    .transform((e) => ({ eventsRetentionDays: e.EVENTS_RETENTION_DAYS })),
);
