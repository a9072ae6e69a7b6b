import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendChange } from '../changes/outbox.js';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { isCoreError } from '../errors.js';
import { loadSigningKeys, publicJwks, rotateSigningKeys } from '../oidc/signing-keys.js';
import { deactivateUser } from '../provisioning/lifecycle.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import { createLogger } from '../logger.js';
import { outboundPolicyFrom } from '../outbound/outbound-policy.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { deliverDueWebhooks } from '../webhooks/webhook-delivery.js';
import { createWebhook } from '../webhooks/webhook.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { tenantIssuerUrl } from '../urls/url-layouts.js';
import {
  EVENT_TYPES,
  EVENT_VERSION,
  eventId,
  readEvents,
  type EventType,
  type RosterEvent,
} from './event.js';
import {
  ISSUED_SCIM_EVENT_URIS,
  renderScimSecurityEvent,
  SCIM_EVENT_URIS,
  scimEventTypes,
  scimSecurityEventRenderer,
  SECEVENT_CONTENT_TYPE,
} from './scim-events.js';

const operator: ChangeContext = { actor: { type: 'operator', id: 'alice' }, requestId: 'req-set' };
const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-06-01T12:00:00Z');
const SSO_BASE = 'https://sso.example.test';
const AUDIENCE = 'https://receiver.example.test/scim-events';
const USER_ID = '2b2f880a-f667-4ac2-84ba-e9381673d462';
const GROUP_ID = '176f397e-c4c4-4b94-b2cf-cb759780b8c2';
const MEMBER_ID = '2819c223-7f76-453a-919d-413861904646';
const GROUP_ID2 = '5d8d29d3-342c-4b5f-8683-a3cb6763ffcc';

let database: TestDatabase;
let db: Db;
let tenantId: string;
let issuer: string;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  const tenant = await createTenant(db, 'set-acme', operator);
  tenantId = tenant.id;
  issuer = tenantIssuerUrl(SSO_BASE, tenant.slug);
});
afterAll(async () => {
  await database.close();
});

/** An event as readEvents makes it, with the data its type carries. */
function eventOf(type: EventType, seq: number, data: Record<string, unknown>): RosterEvent {
  return {
    id: eventId(tenantId, seq),
    type,
    version: EVENT_VERSION,
    seq,
    occurredAt: new Date('2026-06-01T11:59:30Z'),
    data,
  };
}

const user = { id: USER_ID, externalId: 'jdoe', userName: 'jdoe@example.com', version: 3 };
const group = { id: GROUP_ID, externalId: 'crmUsers', displayName: 'CRM', version: 7 };

/** Verifies a SET as a receiver does: the tenant's JWKS, issuer, audience and explicit type. */
async function verifySet(token: string): Promise<JWTPayload> {
  const jwks = createLocalJWKSet(publicJwks(await loadSigningKeys(db, tenantId)));
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience: AUDIENCE,
    typ: 'secevent+jwt',
    algorithms: ['RS256'],
  });
  return payload;
}

async function render(event: RosterEvent) {
  return renderScimSecurityEvent(db, tenantId, event, { issuer, audience: AUDIENCE, clock });
}

const userSubject = { format: 'scim', uri: `/Users/${USER_ID}`, externalId: 'jdoe' };
const groupSubject = { format: 'scim', uri: `/Groups/${GROUP_ID}`, externalId: 'crmUsers' };

// What RFC 9967 §2.4 says each Roster event is, as the receiver decodes it.
const CASES: {
  type: EventType;
  data: Record<string, unknown>;
  subject: Record<string, unknown>;
  events: Record<string, unknown>;
}[] = [
  {
    type: 'user.created',
    data: { user },
    subject: userSubject,
    events: {
      [SCIM_EVENT_URIS.createNotice]: {
        attributes: ['id', 'userName', 'externalId', 'displayName', 'name', 'emails', 'active'],
        version: 'W/"3"',
      },
    },
  },
  {
    type: 'user.updated',
    data: { user, changed: { displayName: {}, givenName: {}, emails: {}, managedBy: {} } },
    subject: userSubject,
    events: {
      [SCIM_EVENT_URIS.putNotice]: {
        attributes: ['displayName', 'name.givenName', 'emails'],
        version: 'W/"3"',
      },
    },
  },
  {
    type: 'user.deactivated',
    data: { user },
    subject: userSubject,
    events: {
      [SCIM_EVENT_URIS.deactivate]: {},
      [SCIM_EVENT_URIS.putNotice]: { attributes: ['active'], version: 'W/"3"' },
    },
  },
  {
    type: 'user.reactivated',
    data: { user },
    subject: userSubject,
    events: {
      [SCIM_EVENT_URIS.activate]: {},
      [SCIM_EVENT_URIS.putNotice]: { attributes: ['active'], version: 'W/"3"' },
    },
  },
  {
    type: 'user.deprovisioned',
    data: { user },
    subject: userSubject,
    events: { [SCIM_EVENT_URIS.delete]: {} },
  },
  {
    type: 'user.restored',
    data: { user },
    subject: userSubject,
    events: {
      [SCIM_EVENT_URIS.createNotice]: {
        attributes: ['id', 'userName', 'externalId', 'displayName', 'name', 'emails', 'active'],
        version: 'W/"3"',
      },
    },
  },
  {
    type: 'user.purged',
    data: { user: { id: USER_ID } },
    subject: { format: 'scim', uri: `/Users/${USER_ID}` },
    events: { [SCIM_EVENT_URIS.delete]: {} },
  },
  {
    type: 'group.created',
    data: { group },
    subject: groupSubject,
    events: {
      [SCIM_EVENT_URIS.createNotice]: {
        attributes: ['id', 'displayName', 'externalId', 'members'],
        version: 'W/"7"',
      },
    },
  },
  {
    type: 'group.updated',
    data: { group },
    subject: groupSubject,
    events: {
      [SCIM_EVENT_URIS.putNotice]: { attributes: ['displayName', 'externalId'], version: 'W/"7"' },
    },
  },
  {
    type: 'group.deleted',
    data: { group: { id: GROUP_ID } },
    subject: { format: 'scim', uri: `/Groups/${GROUP_ID}` },
    events: { [SCIM_EVENT_URIS.delete]: {} },
  },
  {
    type: 'group.members_added',
    data: {
      group: { id: GROUP_ID },
      members: [
        { type: 'user', id: MEMBER_ID },
        { type: 'group', id: GROUP_ID2 },
      ],
    },
    subject: { format: 'scim', uri: `/Groups/${GROUP_ID}` },
    events: {
      [SCIM_EVENT_URIS.patchFull]: {
        data: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [
            {
              op: 'add',
              path: 'members',
              value: [
                { value: MEMBER_ID, $ref: `/Users/${MEMBER_ID}`, type: 'User' },
                { value: GROUP_ID2, $ref: `/Groups/${GROUP_ID2}`, type: 'Group' },
              ],
            },
          ],
        },
      },
    },
  },
  {
    type: 'group.members_removed',
    data: { group: { id: GROUP_ID }, members: [{ type: 'user', id: MEMBER_ID }] },
    subject: { format: 'scim', uri: `/Groups/${GROUP_ID}` },
    events: {
      [SCIM_EVENT_URIS.patchFull]: {
        data: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'remove', path: `members[value eq "${MEMBER_ID}"]` }],
        },
      },
    },
  },
];

describe('SCIM security events (RFC 9967)', () => {
  it('covers every event type but session.ended', () => {
    expect(CASES.map((c) => c.type).sort()).toEqual(
      EVENT_TYPES.filter((type) => type !== 'session.ended').sort(),
    );
  });

  it.each(CASES)('sends $type as a SET the tenant JWKS verifies', async (c) => {
    const event = eventOf(c.type, 41, c.data);
    const { contentType, body } = await render(event);
    expect(contentType).toBe(SECEVENT_CONTENT_TYPE);
    const claims = await verifySet(body);
    expect(claims).toEqual({
      iss: issuer,
      aud: AUDIENCE,
      iat: Math.floor(clock.now().getTime() / 1000),
      jti: event.id,
      txn: event.id,
      toe: Math.floor(event.occurredAt.getTime() / 1000),
      sub_id: c.subject,
      events: c.events,
    });
    // RFC 9967 §2.1: never `sub`; RFC 8417 §2.2: no `exp` on a SET.
    expect(claims).not.toHaveProperty('sub');
    expect(claims).not.toHaveProperty('exp');
    for (const uri of Object.keys(c.events)) expect(ISSUED_SCIM_EVENT_URIS).toContain(uri);
  });

  it('refuses session.ended, which RFC 9967 has no URI for', async () => {
    const event = eventOf('session.ended', 42, { session: { id: 's1' } });
    const refused = await render(event).catch((error: unknown) => error);
    expect(isCoreError(refused, 'Invalid')).toBe(true);
  });

  it('signs with the current key, so a rotation is followed by the next SET', async () => {
    const event = eventOf('user.deprovisioned', 43, { user });
    const before = decodeProtectedHeader((await render(event)).body);
    const rotated = await rotateSigningKeys(db, tenantId, operator, clock);
    const after = decodeProtectedHeader((await render(event)).body);
    expect(before).toMatchObject({ alg: 'RS256', typ: 'secevent+jwt' });
    expect(after.kid).toBe(rotated.current);
    expect(after.kid).not.toBe(before.kid);
    await verifySet((await render(event)).body);
  });

  it('renders the events a SCIM create and a deactivation write, for the worker', async () => {
    const { user: created } = await createUserFromScim(
      db,
      tenantId,
      { userName: 'ann@example.com', externalId: 'ann' },
      scim,
      clock,
    );
    await deactivateUser(db, tenantId, created.id, operator, clock);
    const { events } = await readEvents(db, tenantId, { afterSeq: 0, limit: 100 });
    const renderer = scimSecurityEventRenderer(db, SSO_BASE, clock);
    const claims = await Promise.all(
      events
        .filter((event) => event.data.user !== undefined)
        .map(async (event) => verifySet((await renderer(event, { tenantId, url: AUDIENCE })).body)),
    );
    expect(claims.map((c) => Object.keys(c.events as object))).toEqual([
      [SCIM_EVENT_URIS.createNotice],
      [SCIM_EVENT_URIS.deactivate, SCIM_EVENT_URIS.putNotice],
    ]);
    for (const c of claims) expect(c.sub_id).toMatchObject({ uri: `/Users/${created.id}` });
  });

  it('is what a scim-events webhook receives: SETs in order, session.ended left out', async () => {
    const received: { contentType: string | undefined; body: string }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ contentType: req.headers['content-type'], body });
        // RFC 8935 §2.2: a receiver that accepts a SET answers 202.
        res.statusCode = 202;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/sets`;
      const policy = outboundPolicyFrom('127.0.0.1');
      const tenant = await createTenant(db, 'set-hooks', operator);
      const hookIssuer = tenantIssuerUrl(SSO_BASE, tenant.slug);
      await createWebhook(db, tenant.id, { url, format: 'scim-events' }, operator, { policy });
      const { user: ann } = await createUserFromScim(
        db,
        tenant.id,
        { userName: 'ann@example.com' },
        scim,
        clock,
      );
      // A session of hers ends (as the sessions code records it): RFC 9967 has no URI for it.
      await db.transaction().execute((tx) =>
        appendChange(tx, tenant.id, {
          kind: 'session.ended',
          entityType: 'user',
          entityId: ann.id,
          payload: { reason: 'operator' },
        }),
      );
      await deactivateUser(db, tenant.id, ann.id, operator, clock);
      await deliverDueWebhooks(db, {
        policy,
        logger: createLogger({ level: 'silent' }),
        formats: { 'scim-events': scimSecurityEventRenderer(db, SSO_BASE) },
      });
      const jwks = createLocalJWKSet(publicJwks(await loadSigningKeys(db, tenant.id)));
      const claims = await Promise.all(
        received.map(async ({ contentType, body }) => {
          expect(contentType).toBe(SECEVENT_CONTENT_TYPE);
          return (await jwtVerify(body, jwks, { issuer: hookIssuer, audience: url })).payload;
        }),
      );
      const { events } = await readEvents(db, tenant.id, { afterSeq: 0, limit: 100 });
      expect(events.map((event) => event.type)).toEqual([
        'user.created',
        'session.ended',
        'user.deactivated',
      ]);
      expect(claims.map((c) => c.jti)).toEqual(
        events.filter((event) => event.type !== 'session.ended').map((event) => event.id),
      );
      expect(claims.map((c) => Object.keys(c.events as object))).toEqual([
        [SCIM_EVENT_URIS.createNotice],
        [SCIM_EVENT_URIS.deactivate, SCIM_EVENT_URIS.putNotice],
      ]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('carries every event type but session.ended in the scim-events format', () => {
    expect(scimEventTypes()).toEqual(EVENT_TYPES.filter((type) => type !== 'session.ended'));
    expect(scimEventTypes(['session.ended', 'group.deleted'])).toEqual(['group.deleted']);
  });
});
