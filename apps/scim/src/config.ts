// The SCIM app's configuration: the shared base, its address and request log, and its rate limit.
import { z } from 'zod';
import {
  baseConfigSchema,
  composeConfig,
  defineConfig,
  type InferConfig,
  optionalWholeNumberVariable,
  scimAddressConfigSchema,
  scimLogConfigSchema,
  ssoAddressConfigSchema,
  wholeNumberVariable,
} from '@roster/core';

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
 * Per tenant and process: at most `burst` requests in each window of `burst / perSecond`
 * seconds, so `perSecond` sustained and `burst` at once (a token bucket refilled a window at a time).
 */
export interface ScimRateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** Per-tenant SCIM rate limit (README "Limits"); 0 in either variable turns the limit off. */
const scimRateLimitConfigSchema = defineConfig(
  z
    .object({
      SCIM_RATE_LIMIT_PER_SECOND: wholeNumberVariable(
        0,
        100_000,
        DEFAULT_SCIM_RATE_LIMIT_PER_SECOND,
      ),
      SCIM_RATE_LIMIT_BURST: optionalWholeNumberVariable(0, 1_000_000),
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
    .transform((env): { readonly scimRateLimit: ScimRateLimit | null } => {
      const perSecond = env.SCIM_RATE_LIMIT_PER_SECOND;
      // The bucket holds at least one second's worth of requests.
      const burst = env.SCIM_RATE_LIMIT_BURST ?? Math.max(DEFAULT_SCIM_RATE_LIMIT_BURST, perSecond);
      return { scimRateLimit: perSecond > 0 && burst > 0 ? { perSecond, burst } : null };
    }),
);

/**
 * Every variable the SCIM app reads (README, "Configuration"). SSO_BASE_URL: where tenants'
 * token issuers are, for the access tokens of SCIM clients.
 */
export const scimConfigSchema = composeConfig(
  baseConfigSchema,
  scimAddressConfigSchema,
  ssoAddressConfigSchema,
  scimLogConfigSchema,
  scimRateLimitConfigSchema,
);
export type ScimConfig = InferConfig<typeof scimConfigSchema>;
