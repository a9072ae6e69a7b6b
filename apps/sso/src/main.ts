// Runs the SSO app alone (any number of instances on one PostgreSQL). `npm start` runs every app in one process instead.
import { exitOnSignals, listen, startRuntime } from '@roster/http';
import { createSsoApp } from './app.js';

const runtime = await startRuntime('sso');
const { config, logger, database, lifecycle } = runtime;
const server = await listen(
  createSsoApp({ ...runtime, baseUrl: config.sso.baseUrl }),
  config.host,
  config.sso.port,
);
logger.info(
  { port: config.sso.port, baseUrl: config.sso.baseUrl, database: database.engine },
  'sso.listening',
);
exitOnSignals({
  lifecycle,
  servers: [server],
  afterServersClosed: runtime.shutdown,
  timeoutMs: config.shutdownTimeoutMs,
  logger,
});
