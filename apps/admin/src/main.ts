// The admin API alone; `npm start` runs every app in one process.
import { runStandalone } from '@roster/http';
import { createAdminApp } from './app.js';

await runStandalone('admin', (runtime) => {
  const { config, logger } = runtime;
  if (!config.admin.token) {
    logger.warn(
      'admin.disabled: ROSTER_ADMIN_TOKEN is not set, every admin request will be refused',
    );
  }
  return {
    app: createAdminApp({
      ...runtime,
      adminToken: config.admin.token,
      scimBaseUrl: config.scim.baseUrl,
      ssoBaseUrl: config.sso.baseUrl,
    }),
    host: config.admin.host,
    port: config.admin.port,
  };
});
