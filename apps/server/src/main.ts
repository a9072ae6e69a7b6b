// `npm start`: every Roster app in one process, on the embedded database unless DATABASE_URL is set.
// This launcher is the only module that imports all the apps (docs/adr/0005-one-process-launcher.md).
import { createAdminApp } from '@roster/admin';
import {
  BACKCHANNEL_LOGOUT_DELIVERY,
  backchannelLogoutRenderer,
  CHANGES_CHANNEL,
  DELIVERIES_CHANNEL,
  DELIVERY_POLL_INTERVAL_MS,
  ensureAdminTokenFile,
  removeServerInfo,
  scheduleMaintenance,
  scimSecurityEventRenderer,
  startDeliveryWorker,
  startWebhookWorker,
  writeServerInfo,
  type DeliveryRenderer,
  type WebhookBodyRenderer,
  type WebhookFormat,
} from '@roster/core';
import { exitOnSignals, listen, startRuntime } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { createSsoApp } from '@roster/sso';
import { serverConfigSchema } from './config.js';
import { gettingStarted } from './getting-started.js';

const runtime = await startRuntime('server', serverConfigSchema);
const { config, logger, database, lifecycle } = runtime;
const embedded = config.database.kind !== 'postgres';

// First start on the embedded database with no token configured: generate one and keep it in
// the data folder (mode 0600), where the CLI finds it.
let adminToken = config.admin.token;
let tokenFile: { file: string; created: boolean } | undefined;
if (!adminToken && embedded) {
  const generated = await ensureAdminTokenFile(config.dataDir);
  adminToken = generated.token;
  tokenFile = generated;
}

const [scim, sso, admin] = await Promise.all([
  listen(
    createScimApp({ ...runtime, baseUrl: config.scim.baseUrl, ssoBaseUrl: config.sso.baseUrl }),
    config.host,
    config.scim.port,
  ),
  listen(
    createSsoApp({ ...runtime, baseUrl: config.sso.baseUrl, scimBaseUrl: config.scim.baseUrl }),
    config.host,
    config.sso.port,
  ),
  listen(
    createAdminApp({
      ...runtime,
      adminToken,
      scimBaseUrl: config.scim.baseUrl,
      ssoBaseUrl: config.sso.baseUrl,
    }),
    config.admin.host,
    config.admin.port,
  ),
]);
// Where the CLI on this machine reaches the admin API: a wildcard bind is reached on loopback.
const adminHost =
  { '0.0.0.0': '127.0.0.1', '::': '[::1]' }[config.admin.host] ??
  (config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host);
const adminUrl = `http://${adminHost}:${config.admin.port}`;
if (embedded) {
  await writeServerInfo(config.dataDir, {
    pid: process.pid,
    adminUrl,
    scimBaseUrl: config.scim.baseUrl,
    ssoBaseUrl: config.sso.baseUrl,
    startedAt: new Date().toISOString(),
  });
}
logger.info(
  {
    scim: config.scim.baseUrl,
    sso: config.sso.baseUrl,
    admin: adminUrl,
    database: database.engine,
    dataDir: embedded ? config.dataDir : undefined,
    startupMs: Math.round(performance.now()),
  },
  'roster.started',
);
if (!adminToken)
  logger.warn('admin.disabled: ROSTER_ADMIN_TOKEN is not set, every admin request will be refused');
if (tokenFile?.created)
  process.stderr.write(gettingStarted({ config, adminUrl, tokenFile: tokenFile.file }));

// Cleanup and purge (rules 5 and 6), and SCIM request log pruning, on a schedule; safe on
// every instance at once.
const stopMaintenance =
  config.jobsIntervalMs > 0
    ? scheduleMaintenance(database.db, runtime.clock, logger, config.jobsIntervalMs, {
        scimLogRetentionDays: config.scimLogRetentionDays,
        eventsRetentionDays: config.eventsRetentionDays,
      })
    : () => Promise.resolve();

// The delivery queue (calls out, with retries): every instance works on it (SKIP LOCKED). Each
// kind of delivery registers its renderer here; a kind without one is left for an instance that
// has it.
const deliveryRenderers: Record<string, DeliveryRenderer> = {
  // OpenID Connect Back-Channel Logout notices to apps, signed at delivery.
  [BACKCHANNEL_LOGOUT_DELIVERY]: backchannelLogoutRenderer(database.db, config.sso.baseUrl),
};
const deliveryWorker = startDeliveryWorker(database.db, {
  renderers: deliveryRenderers,
  policy: runtime.outboundPolicy,
  clock: runtime.clock,
  logger,
  intervalMs: DELIVERY_POLL_INTERVAL_MS,
});

// Webhooks (signed events, in order per endpoint): every instance works on them, each endpoint
// leased to one instance at a time (SKIP LOCKED). Each webhook format other than the standard
// JSON body registers its renderer here; an endpoint of a format without one waits for an
// instance that has it.
const webhookFormats: Partial<Record<WebhookFormat, WebhookBodyRenderer>> = {
  // RFC 9967 SCIM security events: SETs signed with the tenant's OpenID Provider key.
  'scim-events': scimSecurityEventRenderer(database.db, config.sso.baseUrl, runtime.clock),
};
const webhookWorker = startWebhookWorker(database.db, {
  policy: runtime.outboundPolicy,
  logger,
  clock: runtime.clock,
  formats: webhookFormats,
});

// One LISTEN connection wakes both workers at the commit that gave them work: a queued delivery
// (DELIVERIES_CHANNEL), a change that may be an event (CHANGES_CHANNEL). No channel: the
// connection was lost and re-opened, so either may have missed something.
const stopListening = await database.listen(
  [DELIVERIES_CHANNEL, CHANGES_CHANNEL],
  (_payload, channel) => {
    if (channel !== CHANGES_CHANNEL) deliveryWorker.wake();
    if (channel !== DELIVERIES_CHANNEL) webhookWorker.wake();
  },
);

exitOnSignals({
  lifecycle,
  servers: [scim, sso, admin],
  afterServersClosed: async () => {
    await stopMaintenance();
    await stopListening();
    // Each worker finishes the batch it has in hand (its deliveries are recorded, none is cut).
    await Promise.all([deliveryWorker.stop(), webhookWorker.stop()]);
    if (embedded) await removeServerInfo(config.dataDir);
    await runtime.shutdown();
  },
  timeoutMs: config.shutdownTimeoutMs,
  logger,
});
