// Runs the SCIM app alone (any number of instances on one PostgreSQL). `npm start` runs every app in one process instead.
import { exitOnSignals, listen, startRuntime } from '@roster/http';
import { createScimApp } from './app.js';

const runtime = await startRuntime('scim');
const { config, logger, database, lifecycle } = runtime;
const server = await listen(
  createScimApp({ ...runtime, baseUrl: config.scim.baseUrl }),
  config.host,
  config.scim.port,
);
logger.info(
  { port: config.scim.port, baseUrl: config.scim.baseUrl, database: database.engine },
  'scim.listening',
);
exitOnSignals({
  lifecycle,
  servers: [server],
  afterServersClosed: runtime.shutdown,
  timeoutMs: config.shutdownTimeoutMs,
  logger,
});
