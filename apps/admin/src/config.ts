// The admin API's configuration: the shared base, where the SCIM and SSO apps are published (to
// tell operators), its own address and token, and the maintenance schedule it runs.
import { z } from 'zod';
import {
  baseConfigSchema,
  composeConfig,
  defineConfig,
  emptyAsUndefined,
  eventsRetentionConfigSchema,
  type InferConfig,
  portVariable,
  scimAddressConfigSchema,
  scimLogConfigSchema,
  ssoAddressConfigSchema,
  textVariable,
  wholeNumberVariable,
} from '@roster/core';

const adminApiConfigSchema = defineConfig(
  z
    .object({
      ADMIN_PORT: portVariable(8082),
      ADMIN_HOST: textVariable('127.0.0.1'),
      ROSTER_ADMIN_TOKEN: z.preprocess(
        emptyAsUndefined,
        z.string().min(24, 'must be at least 24 characters long').optional(),
      ),
      ROSTER_JOBS_INTERVAL_MS: wholeNumberVariable(0, 86_400_000, 3_600_000),
    })
    .transform((env) => ({
      admin: { host: env.ADMIN_HOST, port: env.ADMIN_PORT, token: env.ROSTER_ADMIN_TOKEN },
      /** How often cleanup and purge run inside the server; 0 = never (run `roster purge`). */
      jobsIntervalMs: env.ROSTER_JOBS_INTERVAL_MS,
    })),
);

/** Every variable the admin app reads (README, "Configuration"). */
export const adminConfigSchema = composeConfig(
  baseConfigSchema,
  scimAddressConfigSchema,
  ssoAddressConfigSchema,
  scimLogConfigSchema,
  eventsRetentionConfigSchema,
  adminApiConfigSchema,
);
export type AdminConfig = InferConfig<typeof adminConfigSchema>;
