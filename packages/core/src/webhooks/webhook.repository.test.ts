import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit/audit.repository.js';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { eventId } from '../events/event.js';
import { outboundPolicyFrom } from '../outbound/outbound-policy.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { signWebhook } from './signing.js';
import {
  createWebhook,
  disableWebhook,
  enableWebhook,
  getWebhook,
  listWebhookAttempts,
  listWebhooks,
  MAX_WEBHOOK_SECRET_OVERLAP_MS,
  parseWebhookReplayStart,
  removeWebhook,
  replayWebhook,
  rotateWebhookSecret,
  updateWebhook,
  WEBHOOK_SECRET_OVERLAP_MS,
} from './webhook.repository.js';
import { MAX_WEBHOOK_URL_LENGTH, MAX_WEBHOOKS_PER_TENANT } from './webhook.js';

let database: TestDatabase;
let db: Db;
let tenantId: string;
let otherTenantId: string;
const operator: ChangeContext = { actor: { type: 'operator', id: 'ops' }, requestId: 'req-1' };
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  tenantId = (await createTenant(db, 'acme', operator)).id;
  otherTenantId = (await createTenant(db, 'globex', operator)).id;
});
afterAll(async () => {
  await database.close();
});

const countRows = async () => {
  const endpoints = await db
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const audits = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('action', 'like', 'webhook.%')
    .executeTakeFirstOrThrow();
  return { endpoints: Number(endpoints.n), audits: Number(audits.n) };
};

describe('the webhook registry', () => {
  it('signs like the Standard Webhooks specification example', () => {
    expect(
      signWebhook(
        ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('creates a webhook that starts after the latest event, with a secret shown once, audited', async () => {
    const clock = fixedClock('2026-06-01T00:00:00Z');
    await createUserFromScim(db, tenantId, { userName: 'before@example.com' }, scim, clock);
    const { webhook, secret } = await createWebhook(
      db,
      tenantId,
      { url: 'https://hooks.example.com/roster?token=abc', events: ['user.*', 'group.created'] },
      operator,
      { clock },
    );
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(webhook).toMatchObject({
      tenantId,
      url: 'https://hooks.example.com/roster?token=abc',
      format: 'standard',
      state: 'enabled',
      disabledReason: null,
      deliveredSeq: 1,
      nextAttemptAt: clock.now(),
      previousSecretExpiresAt: null,
    });
    expect(webhook.events).toContain('user.created');
    expect(webhook.events).toContain('group.created');
    expect(webhook.events).not.toContain('group.deleted');
    expect(JSON.stringify(webhook)).not.toContain(secret.slice(6));
    expect(await getWebhook(db, tenantId, webhook.id)).toEqual(webhook);
    expect(await listWebhooks(db, tenantId)).toEqual([webhook]);
    expect(await listWebhooks(db, otherTenantId)).toEqual([]);
    const audit = await listAuditEvents(db, tenantId, { targetId: webhook.id });
    expect(audit).toMatchObject([
      {
        action: 'webhook.created',
        actor: { type: 'operator', id: 'ops' },
        changes: { url: 'https://hooks.example.com', format: 'standard' },
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain('token=abc');
    await removeWebhook(db, tenantId, webhook.id, operator);
  });

  it('stores every type as "all" so that types added later reach it', async () => {
    const { webhook } = await createWebhook(
      db,
      tenantId,
      { url: 'https://hooks.example.com/all', events: ['*'] },
      operator,
    );
    expect(webhook.events).toEqual([]);
    await removeWebhook(db, tenantId, webhook.id, operator);
  });

  it('refuses bad inputs, writing nothing', async () => {
    const before = await countRows();
    const bad: [unknown, string][] = [
      [{ url: 'ftp://hooks.example.com' }, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: '' }, 'url'],
      [{ url: 42 }, 'url'],
      [{ url: `https://hooks.example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}` }, 'url'],
      [{ url: 'https://user:pass@hooks.example.com/' }, 'url'],
      [{ url: 'https://hooks.example.com/#frag' }, 'url'],
      [{ url: 'https://hooks.example.com/\u0000' }, 'url'],
      [{ url: 'https://hooks.example.com/', events: ['user.nope'] }, 'events'],
      [{ url: 'https://hooks.example.com/', events: 'user.*' }, 'events'],
      [{ url: 'https://hooks.example.com/', events: [7] }, 'events'],
      [{ url: 'https://hooks.example.com/', format: 'xml' }, 'format'],
    ];
    for (const [input, field] of bad)
      await expect(
        createWebhook(db, tenantId, input as { url: string }, operator),
      ).rejects.toMatchObject({ code: 'Invalid', details: { field } });
    // With the policy, a literal internal address is refused at once; listed, it is accepted.
    for (const url of ['http://127.0.0.1:8080/', 'http://169.254.169.254/latest', 'http://[::1]/'])
      await expect(
        createWebhook(db, tenantId, { url }, operator, { policy: outboundPolicyFrom(undefined) }),
      ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'url' } });
    await expect(
      createWebhook(
        db,
        '00000000-0000-4000-8000-000000000000',
        { url: 'https://a.example/' },
        operator,
      ),
    ).rejects.toMatchObject({ code: 'NotFound' });
    expect(await countRows()).toEqual(before);

    const { webhook } = await createWebhook(db, tenantId, { url: 'https://a.example/' }, operator);
    const after = await countRows();
    await expect(
      updateWebhook(db, tenantId, webhook.id, { url: 'javascript:alert(1)' }, operator),
    ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'url' } });
    await expect(
      rotateWebhookSecret(db, tenantId, webhook.id, operator, {
        overlapMs: MAX_WEBHOOK_SECRET_OVERLAP_MS + 1,
      }),
    ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'overlapMs' } });
    await expect(
      replayWebhook(db, tenantId, webhook.id, { eventId: 'evt_nope' }, operator),
    ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'since' } });
    await expect(
      replayWebhook(db, tenantId, webhook.id, { eventId: eventId(otherTenantId, 1) }, operator),
    ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'since' } });
    await expect(
      replayWebhook(db, tenantId, webhook.id, { time: new Date('nope') }, operator),
    ).rejects.toMatchObject({ code: 'Invalid', details: { field: 'since' } });
    expect(await countRows()).toEqual(after);
    await removeWebhook(db, tenantId, webhook.id, operator);
  });

  it('refuses more than the webhooks a tenant may have', async () => {
    const tenant = await createTenant(db, 'many-hooks', operator);
    await Promise.all(
      Array.from({ length: MAX_WEBHOOKS_PER_TENANT + 5 }, (_, i) =>
        createWebhook(db, tenant.id, { url: `https://a.example/${i}` }, operator).catch(
          (error: unknown) => error,
        ),
      ),
    );
    expect(await listWebhooks(db, tenant.id)).toHaveLength(MAX_WEBHOOKS_PER_TENANT);
    await expect(
      createWebhook(db, tenant.id, { url: 'https://a.example/one-more' }, operator),
    ).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('answers NotFound for unknown ids and for another tenant’s webhook', async () => {
    const { webhook } = await createWebhook(db, tenantId, { url: 'https://a.example/' }, operator);
    for (const id of [webhook.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      await expect(getWebhook(db, otherTenantId, id)).rejects.toMatchObject({ code: 'NotFound' });
      await expect(
        updateWebhook(db, otherTenantId, id, { url: 'https://b.example/' }, operator),
      ).rejects.toMatchObject({ code: 'NotFound' });
      await expect(disableWebhook(db, otherTenantId, id, operator)).rejects.toMatchObject({
        code: 'NotFound',
      });
      await expect(removeWebhook(db, otherTenantId, id, operator)).rejects.toMatchObject({
        code: 'NotFound',
      });
      await expect(listWebhookAttempts(db, otherTenantId, id)).rejects.toMatchObject({
        code: 'NotFound',
      });
    }
    expect(await getWebhook(db, tenantId, webhook.id)).toEqual(webhook);
    await removeWebhook(db, tenantId, webhook.id, operator);
    await expect(getWebhook(db, tenantId, webhook.id)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('updates, rotates, disables, enables and removes, auditing each change', async () => {
    const clock = fixedClock('2026-06-02T00:00:00Z');
    const { webhook, secret } = await createWebhook(
      db,
      tenantId,
      { url: 'https://a.example/' },
      operator,
      { clock },
    );
    const updated = await updateWebhook(
      db,
      tenantId,
      webhook.id,
      { url: 'https://b.example/hook', events: ['group.*'], format: 'scim-events' },
      operator,
      { clock },
    );
    expect(updated).toMatchObject({ url: 'https://b.example/hook', format: 'scim-events' });
    expect(updated.events).toEqual([
      'group.created',
      'group.updated',
      'group.deleted',
      'group.members_added',
      'group.members_removed',
    ]);
    const rotated = await rotateWebhookSecret(db, tenantId, webhook.id, operator, { clock });
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.webhook.previousSecretExpiresAt).toEqual(
      new Date(clock.now().getTime() + WEBHOOK_SECRET_OVERLAP_MS),
    );
    const disabled = await disableWebhook(db, tenantId, webhook.id, operator);
    expect(disabled).toMatchObject({ state: 'disabled', disabledReason: 'operator' });
    // Disabling again changes nothing (and audits nothing).
    expect(await disableWebhook(db, tenantId, webhook.id, operator)).toEqual(disabled);
    const enabled = await enableWebhook(db, tenantId, webhook.id, operator, { clock });
    expect(enabled).toMatchObject({ state: 'enabled', disabledReason: null, failingSince: null });
    await removeWebhook(db, tenantId, webhook.id, operator);
    const actions = (await listAuditEvents(db, tenantId, { targetId: webhook.id })).map(
      (event) => event.action,
    );
    expect(actions).toEqual([
      'webhook.created',
      'webhook.updated',
      'webhook.secret_rotated',
      'webhook.disabled',
      'webhook.enabled',
      'webhook.removed',
    ]);
    expect(JSON.stringify(await listAuditEvents(db, tenantId, {}))).not.toContain(
      rotated.secret.slice(6),
    );
  });

  it('reads where a replay starts from what an operator typed', () => {
    expect(parseWebhookReplayStart('2026-12-01T00:00:00Z')).toEqual({
      time: new Date('2026-12-01T00:00:00Z'),
    });
    expect(parseWebhookReplayStart(eventId(tenantId, 3))).toEqual({
      eventId: eventId(tenantId, 3),
    });
    for (const text of ['', 'yesterday', '2026-02-30T00:00:00Z'])
      expect(() => parseWebhookReplayStart(text)).toThrow(
        expect.objectContaining({ code: 'Invalid', details: { field: 'since' } }),
      );
  });

  it('replays by event id or time, only ever moving the cursor back', async () => {
    const clock = fixedClock('2026-06-03T00:00:00Z');
    const { webhook } = await createWebhook(db, tenantId, { url: 'https://a.example/' }, operator, {
      clock,
    });
    const start = webhook.deliveredSeq;
    // The cursor is at the latest event: a start after it changes nothing.
    expect(
      await replayWebhook(
        db,
        tenantId,
        webhook.id,
        { eventId: eventId(tenantId, start + 5) },
        operator,
      ),
    ).toEqual(webhook);
    const replayed = await replayWebhook(
      db,
      tenantId,
      webhook.id,
      { eventId: eventId(tenantId, 1) },
      operator,
      { clock },
    );
    expect(replayed.deliveredSeq).toBe(0);
    await db
      .updateTable('webhook_endpoints')
      .set({ delivered_seq: start })
      .where('id', '=', webhook.id)
      .execute();
    const byTime = await replayWebhook(
      db,
      tenantId,
      webhook.id,
      { time: new Date('2026-06-01T00:00:00Z') },
      operator,
    );
    expect(byTime.deliveredSeq).toBe(0);
    // A time after every event: nothing to replay.
    expect(
      (await replayWebhook(db, tenantId, webhook.id, { time: new Date('2030-01-01') }, operator))
        .deliveredSeq,
    ).toBe(0);
    const audit = await listAuditEvents(db, tenantId, { targetId: webhook.id });
    expect(audit.filter((event) => event.action === 'webhook.replayed')).toHaveLength(2);
    await removeWebhook(db, tenantId, webhook.id, operator);
  });
});
