// The events side of the product in this process, on either engine: the SCIM and admin apps on
// real ports over one fresh test database (PGlite, or PostgreSQL with DATABASE_URL), one tenant
// with a SCIM token, and the webhook worker as `npm start` runs it (woken by LISTEN/NOTIFY at
// each commit, polling besides). Webhooks point at a real receiver (webhook-receiver.ts).
import {
  CHANGES_CHANNEL,
  createLogger,
  createScimToken,
  createTenant,
  createWebhook,
  outboundPolicyFrom,
  readEvents,
  startWebhookWorker,
  systemClock,
  type ChangeContext,
  type IssuedWebhook,
  type RosterEvent,
  type Tenant,
  type WebhookInput,
} from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createAdminApp } from '@roster/admin';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { ADMIN_TOKEN, listen, ScimClient, send, type HttpAnswer } from './journey-stack.js';
import type { WebhookReceiver } from './webhook-receiver.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'events-journeys' } };
/** The receiver listens on loopback: the one internal destination these tests allow. */
export const RECEIVER_ALLOW_HOSTS = '127.0.0.1';

export interface EventsStack {
  readonly database: TestDatabase;
  readonly tenant: Tenant;
  readonly scim: ScimClient;
  admin(method: string, path: string): Promise<HttpAnswer>;
  /** A webhook of the tenant to `receiver` at `path`, its secret given to the receiver. */
  addWebhook(
    receiver: WebhookReceiver,
    path: string,
    input?: Omit<WebhookInput, 'url'>,
  ): Promise<IssuedWebhook>;
  /** Starts the webhook worker; `close()` stops it (and everything else). */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startEventsStack(slug: string): Promise<EventsStack> {
  const database = await createTestDatabase({ migrated: true });
  const logger = createLogger({ level: 'silent' });
  const runtime = { database, logger, clock: systemClock };
  const scim = await listen((baseUrl) =>
    createScimApp({ ...runtime, lifecycle: createLifecycle(), baseUrl }),
  );
  const admin = await listen(() =>
    createAdminApp({
      ...runtime,
      lifecycle: createLifecycle(),
      adminToken: ADMIN_TOKEN,
      scimBaseUrl: scim.url,
      ssoBaseUrl: 'http://localhost:1',
    }),
  );
  const { tenant, token } = await tenantWithScimToken(database, slug);
  const stops: (() => Promise<void>)[] = [];
  return {
    database,
    tenant,
    scim: new ScimClient(`${scim.url}/scim/v2/${slug}`, token),
    admin: (method, path) =>
      send(`${admin.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    addWebhook: (receiver, path, input = {}) =>
      addWebhook(database, tenant.id, receiver, path, input),
    async startWorker() {
      const worker = startWebhookWorker(database.db, {
        policy: outboundPolicyFrom(RECEIVER_ALLOW_HOSTS),
        logger,
        clock: systemClock,
      });
      const unlisten = await database.listen(CHANGES_CHANNEL, () => worker.wake());
      stops.push(async () => {
        await unlisten();
        await worker.stop();
      });
    },
    async close() {
      for (const stop of stops.reverse()) await stop();
      for (const { server } of [scim, admin]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await database.close();
    },
  };
}

/** A new tenant and a SCIM token of it, made through core as an operator would. */
export async function tenantWithScimToken(
  database: Pick<TestDatabase, 'db'>,
  slug: string,
): Promise<{ tenant: Tenant; token: string }> {
  const tenant = await createTenant(database.db, slug, operator);
  const { token } = await createScimToken(
    database.db,
    slug,
    { expiresAt: null },
    operator,
    systemClock,
  );
  return { tenant, token };
}

/** A webhook of the tenant to `receiver` at `path`, its secret given to the receiver. */
export async function addWebhook(
  database: Pick<TestDatabase, 'db'>,
  tenantId: string,
  receiver: WebhookReceiver,
  path: string,
  input: Omit<WebhookInput, 'url'> = {},
): Promise<IssuedWebhook> {
  const issued = await createWebhook(
    database.db,
    tenantId,
    { ...input, url: receiver.url(path) },
    operator,
  );
  receiver.setSecret(path, issued.secret);
  return issued;
}

/** Every event of the tenant after `afterSeq` (of `types` only when given), in order. */
export async function allEventsAfter(
  database: Pick<TestDatabase, 'db'>,
  tenantId: string,
  afterSeq: number,
  types?: RosterEvent['type'][],
): Promise<RosterEvent[]> {
  const events: RosterEvent[] = [];
  let after = afterSeq;
  for (;;) {
    const batch = await readEvents(database.db, tenantId, { afterSeq: after, limit: 1_000, types });
    events.push(...batch.events);
    if (batch.events.length === 0) return events;
    after = batch.lastSeq;
  }
}
