// Runs the admin API alone. `npm start` runs every app in one process instead.
import { exitOnSignals, listen, startRuntime } from '@roster/http';
import { createAdminApp } from './app.js';

const runtime = await startRuntime('admin');
const { config, logger, lifecycle } = runtime;
if (!config.admin.token)
  logger.warn('admin.disabled: ROSTER_ADMIN_TOKEN is not set, every admin request will be refused');
const app = createAdminApp({
  ...runtime,
  adminToken: config.admin.token,
  scimBaseUrl: config.scim.baseUrl,
  ssoBaseUrl: config.sso.baseUrl,
});
const server = await listen(app, config.admin.host, config.admin.port);
logger.info({ host: config.admin.host, port: config.admin.port }, 'admin.listening');
exitOnSignals({
  lifecycle,
  servers: [server],
  afterServersClosed: runtime.shutdown,
  timeoutMs: config.shutdownTimeoutMs,
  logger,
});
