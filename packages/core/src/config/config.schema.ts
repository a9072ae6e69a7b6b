import { z } from 'zod';

/** Log levels pino understands, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `FOO=` and `FOO=" "` mean unset: the default applies (never `Number('') === 0`). */
const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A whole number from the environment; an empty value falls back to the default (never 0). */
const wholeNumber = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const port = (fallback: number) => wholeNumber(0, 65535, fallback);

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// or postgresql:// URL',
});

/**
 * SCIM_RATE_LIMIT_PER_SECOND when unset. The limit is a fuse against runaway clients (a retry
 * loop without backoff), not a quota for IdPs: a sequential client stays under about 760/s here
 * (a filtered read at best) and Okta's 75 concurrent connections, at internet round trips of
 * 75 ms or more, send at most 1000/s. README "Rate limit" gives the reasoning.
 */
export const DEFAULT_SCIM_RATE_LIMIT_PER_SECOND = 1000;
/** SCIM_RATE_LIMIT_BURST when unset (or SCIM_RATE_LIMIT_PER_SECOND, if that is more). */
export const DEFAULT_SCIM_RATE_LIMIT_BURST = 2000;

/**
 * Every environment variable Roster reads, in one schema (README, "Configuration").
 * Empty strings count as unset, so `FOO= npm start` falls back to the default.
 */
export const environmentSchema = z
  .object({
    DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
    DATABASE_POOL_MAX: wholeNumber(2, 200, 10),
    ROSTER_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('.roster')),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('0.0.0.0')),
    SCIM_PORT: port(8080),
    SSO_PORT: port(8081),
    ADMIN_PORT: port(8082),
    ADMIN_HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
    SCIM_BASE_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
    SSO_BASE_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
    ROSTER_ADMIN_TOKEN: z.preprocess(
      emptyAsUndefined,
      z.string().min(24, 'must be at least 24 characters long').optional(),
    ),
    LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
    SHUTDOWN_TIMEOUT_MS: wholeNumber(0, 600_000, 10_000),
    ROSTER_JOBS_INTERVAL_MS: wholeNumber(0, 86_400_000, 3_600_000),
    // SCIM request log (README "SCIM request log"): days kept; 0 = no log at all.
    SCIM_LOG_RETENTION_DAYS: wholeNumber(0, 365, 7),
    // Per-tenant SCIM rate limit (README "Limits"); 0 in either turns the limit off.
    SCIM_RATE_LIMIT_PER_SECOND: wholeNumber(0, 100_000, DEFAULT_SCIM_RATE_LIMIT_PER_SECOND),
    SCIM_RATE_LIMIT_BURST: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(0).max(1_000_000).optional(),
    ),
    // SAML service provider (apps/sso): checks and sessions; see the README's SSO section.
    SAML_CLOCK_SKEW_MS: wholeNumber(0, 300_000, 60_000),
    SAML_MAX_ASSERTION_AGE_MS: wholeNumber(10_000, 3_600_000, 300_000),
    SAML_REQUEST_TTL_MS: wholeNumber(60_000, 3_600_000, 900_000),
    SSO_SESSION_IDLE_TIMEOUT_MS: wholeNumber(60_000, 2_592_000_000, 28_800_000),
    SSO_SESSION_ABSOLUTE_TIMEOUT_MS: wholeNumber(60_000, 2_592_000_000, 86_400_000),
    SSO_SP_PRIVATE_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    SSO_SP_CERTIFICATE_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    NODE_ENV: z.preprocess(
      emptyAsUndefined,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
  })
  .refine(
    (env) =>
      env.SCIM_RATE_LIMIT_BURST === undefined ||
      env.SCIM_RATE_LIMIT_BURST === 0 ||
      env.SCIM_RATE_LIMIT_BURST >= env.SCIM_RATE_LIMIT_PER_SECOND,
    {
      path: ['SCIM_RATE_LIMIT_BURST'],
      message: 'must be at least SCIM_RATE_LIMIT_PER_SECOND (or 0 to turn the limit off)',
    },
  )
  .refine((env) => Boolean(env.SSO_SP_PRIVATE_KEY_FILE) === Boolean(env.SSO_SP_CERTIFICATE_FILE), {
    message: 'give both SSO_SP_PRIVATE_KEY_FILE and SSO_SP_CERTIFICATE_FILE, or neither',
    path: ['SSO_SP_CERTIFICATE_FILE'],
  })
  .transform((env) => ({
    ...env,
    // The bucket holds at least one second's worth of requests.
    SCIM_RATE_LIMIT_BURST:
      env.SCIM_RATE_LIMIT_BURST ??
      Math.max(DEFAULT_SCIM_RATE_LIMIT_BURST, env.SCIM_RATE_LIMIT_PER_SECOND),
    SCIM_BASE_URL: env.SCIM_BASE_URL ?? `http://localhost:${env.SCIM_PORT}`,
    SSO_BASE_URL: env.SSO_BASE_URL ?? `http://localhost:${env.SSO_PORT}`,
  }));

export type Environment = z.output<typeof environmentSchema>;
