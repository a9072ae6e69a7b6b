// `npm start` runs every app, so it reads every app's variables: their schemas composed.
import { adminConfigSchema } from '@roster/admin';
import { composeConfig, type InferConfig } from '@roster/core';
import { scimConfigSchema } from '@roster/scim';
import { ssoConfigSchema } from '@roster/sso';

/** Every variable Roster reads (README, "Configuration"). */
export const serverConfigSchema = composeConfig(
  scimConfigSchema,
  ssoConfigSchema,
  adminConfigSchema,
);
export type ServerConfig = InferConfig<typeof serverConfigSchema>;
