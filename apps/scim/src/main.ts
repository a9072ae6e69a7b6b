// The SCIM app alone (any number of instances on one PostgreSQL); `npm start` runs every app in one process.
import { runStandalone } from '@roster/http';
import { createScimApp } from './app.js';
import { scimConfigSchema } from './config.js';

await runStandalone('scim', scimConfigSchema, (runtime) => ({
  app: createScimApp({
    ...runtime,
    baseUrl: runtime.config.scim.baseUrl,
    ssoBaseUrl: runtime.config.sso.baseUrl,
  }),
  host: runtime.config.host,
  port: runtime.config.scim.port,
}));
