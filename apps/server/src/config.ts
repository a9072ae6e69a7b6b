// `npm start` runs every app, so it reads every app's variables: their schemas composed.
import { adminConfigSchema } from '@roster/admin';
import { composeConfig, loadConfig } from '@roster/core';
import { scimConfigSchema } from '@roster/scim';
import { ssoConfigSchema } from '@roster/sso';

/** Every variable Roster reads (README, "Configuration"). */
export const serverConfigSchema = composeConfig(
  scimConfigSchema,
  ssoConfigSchema,
  adminConfigSchema,
);
export type ServerConfig = ReturnType<typeof loadServerConfig>;

/** The whole configuration from the environment; a bad value is a ConfigError naming it. */
export const loadServerConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(serverConfigSchema, env);
