// The admin API alone; `npm start` runs every app in one process.
import { scheduleMaintenance } from '@roster/core';
import { runStandalone } from '@roster/http';
import { createAdminApp } from './app.js';
import { adminConfigSchema } from './config.js';

await runStandalone('admin', adminConfigSchema, (runtime) => {
  const { config, logger } = runtime;
  if (!config.admin.token) {
    logger.warn(
      'admin.disabled: ROSTER_ADMIN_TOKEN is not set, every admin request will be refused',
    );
  }
  // The maintenance schedule (cleanup, purge, SCIM log and SAML state pruning) runs with the
  // operator's app; it is safe on any number of instances at once (SKIP LOCKED).
  const stopJobs =
    config.jobsIntervalMs > 0
      ? scheduleMaintenance(runtime.database.db, runtime.clock, logger, config.jobsIntervalMs, {
          scimLogRetentionDays: config.scimLogRetentionDays,
          eventsRetentionDays: config.eventsRetentionDays,
        })
      : undefined;
  return {
    ...(stopJobs ? { stopJobs } : {}),
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
