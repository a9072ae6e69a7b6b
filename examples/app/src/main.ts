// `ISSUER=… CLIENT_ID=… CLIENT_SECRET=… npm start -w @roster/example-app`: the example app on
// PORT (3000), signing people in through the Roster tenant of ISSUER.
import { createServer } from 'node:http';
import { createExampleApp, discoverRoster } from './app.js';
import { loadAppConfig } from './config.js';

const config = loadAppConfig();
const oidc = await discoverRoster(config);
const server = createServer(createExampleApp({ oidc, appBaseUrl: config.appBaseUrl }));
server.listen(config.port, () => {
  console.log(`Example app on ${config.appBaseUrl}, signing in through ${config.issuer.href}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => server.close(() => process.exit(0)));
