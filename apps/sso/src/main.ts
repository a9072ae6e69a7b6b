// The SSO app alone (any number of instances on one PostgreSQL); `npm start` runs every app in one process.
import { runStandalone } from '@roster/http';
import { createSsoApp } from './app.js';
import { ssoConfigSchema } from './config.js';

await runStandalone('sso', ssoConfigSchema, (runtime) => ({
  app: createSsoApp({
    ...runtime,
    baseUrl: runtime.config.sso.baseUrl,
    scimBaseUrl: runtime.config.scim.baseUrl,
  }),
  host: runtime.config.host,
  port: runtime.config.sso.port,
}));
