// The protocol facts of a sign-in, checked and written in the sign-in's own transaction: the
// answered request (bound to the browser, consumed once), the assertion id (replay), the browser's
// previous session, and the one shape of the refusal's audit event.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { Db } from '../db/transaction.js';
import { saveSamlRequestId } from '../saml/saml-state.js';
import { endUserSessions, sessionIdHash } from '../sessions/session.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { refuseSignIn, signIn, type SignInAttempt, type SignInConnection } from './sign-in.js';

const context: ChangeContext = { actor: { type: 'idp', id: 'idp' }, requestId: 'req-acs' };
const browser = createHash('sha256').update('browser-a').digest();
const otherBrowser = createHash('sha256').update('browser-b').digest();
let database: TestDatabase;
let db: Db;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.close());

async function world(allowUnsolicited = false) {
  n += 1;
  const clock = fixedClock('2026-06-01T00:00:00Z');
  const tenant = await createTenant(db, `sign-in-${n}`, { actor: { type: 'operator' } });
  const { id } = await db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'okta',
      entity_id: `https://idp.example/${n}`,
      sso_url: 'https://idp.example/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const connection: SignInConnection = {
    id,
    kind: 'saml',
    policy: { jitPolicy: 'create', matchBy: 'username', allowUnsolicited },
  };
  const request = async (requestId: string, returnTo: string | null = null) =>
    saveSamlRequestId(
      db,
      tenant.id,
      id,
      {
        id: requestId,
        value: clock.now().toISOString(),
        browserBinding: browser,
        expiresAt: new Date(clock.now().getTime() + 600_000),
        returnTo,
      },
      clock.now(),
    );
  const attempt = (
    subject: string,
    protocol: SignInAttempt['protocol'],
    extra: Partial<SignInAttempt> = {},
  ): SignInAttempt => ({
    tenantId: tenant.id,
    connection,
    asserted: { subject },
    protocol,
    ...extra,
  });
  return { tenantId: tenant.id, connection, clock, request, attempt };
}

const remember = (id: string) => ({ id, rememberUntil: new Date('2026-06-01T01:00:00Z') });

async function refusals(tenantId: string) {
  return db
    .selectFrom('audit_events')
    .select(['target_type', 'target_id', 'changes'])
    .where('tenant_id', '=', tenantId)
    .where('action', '=', 'sign_in.refused')
    .orderBy('id')
    .execute();
}

describe('signIn: the protocol facts', () => {
  it('consumes the answered request in its transaction and returns where it asked to go', async () => {
    const { clock, request, attempt } = await world();
    await request('_r1', 'https://app.example/after');
    const response = attempt('ann@example.com', {
      request: { id: '_r1', browserBinding: browser },
      assertion: remember('_a1'),
    });
    const first = await signIn(db, response, context, clock);
    expect(first).toMatchObject({ outcome: 'signed_in', returnTo: 'https://app.example/after' });
    // The same response again: its request is gone and its assertion was used: a replay.
    const again = await signIn(db, response, context, clock);
    expect(again).toMatchObject({ outcome: 'refused', reason: 'replayed' });
  });

  it.each([
    ['started by another browser', otherBrowser, '_r2', 'in_response_to_other_browser'],
    ['brought without the pre-login cookie', undefined, '_r2', 'no_login_cookie'],
    ['never started here', browser, '_never', 'unknown_in_response_to'],
  ] as const)('refuses a response to a request %s', async (_case, binding, id, reason) => {
    const { clock, request, attempt } = await world();
    await request('_r2');
    const result = await signIn(
      db,
      attempt('bo@example.com', { request: { id, browserBinding: binding } }),
      context,
      clock,
    );
    expect(result).toMatchObject({ outcome: 'refused', reason });
    // The browser that started it can still use it.
    expect(
      await signIn(
        db,
        attempt('bo@example.com', { request: { id: '_r2', browserBinding: browser } }),
        context,
        clock,
      ),
    ).toMatchObject({ outcome: 'signed_in' });
  });

  it('refuses an expired request', async () => {
    const { clock, request, attempt } = await world();
    await request('_r3');
    clock.advance(600_000);
    expect(
      await signIn(
        db,
        attempt('cy@example.com', { request: { id: '_r3', browserBinding: browser } }),
        context,
        clock,
      ),
    ).toMatchObject({ outcome: 'refused', reason: 'request_expired' });
  });

  it('refuses an unsolicited response unless the connection allows IdP-initiated sign-in, and a replayed one', async () => {
    const off = await world(false);
    expect(await signIn(db, off.attempt('di@example.com', {}), context, off.clock)).toMatchObject({
      outcome: 'refused',
      reason: 'unsolicited',
    });
    const on = await world(true);
    const facts = { assertion: remember('_a4') };
    expect(await signIn(db, on.attempt('di@example.com', facts), context, on.clock)).toMatchObject({
      outcome: 'signed_in',
    });
    expect(await signIn(db, on.attempt('di@example.com', facts), context, on.clock)).toMatchObject({
      outcome: 'refused',
      reason: 'replayed',
    });
    expect((await refusals(on.tenantId)).map((r) => r.changes)).toEqual([
      expect.objectContaining({ reason: 'replayed', detail: 'assertion _a4 was used before' }),
    ]);
  });

  it("ends the browser's previous session with the new sign-in", async () => {
    const { clock, attempt } = await world(true);
    const first = await signIn(db, attempt('ed@example.com', undefined), context, clock);
    if (first.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const second = await signIn(
      db,
      attempt('ed@example.com', undefined, { previousSessionToken: first.session.token }),
      context,
      clock,
    );
    expect(second).toMatchObject({ outcome: 'signed_in' });
    const sessions = await db
      .selectFrom('sessions')
      .select('id_hash')
      .where('user_id', '=', first.user.id)
      .execute();
    const hex = (hash: Uint8Array) => Buffer.from(hash).toString('hex');
    expect(sessions.map((s) => hex(s.id_hash))).toEqual(
      second.outcome === 'signed_in' ? [hex(sessionIdHash(second.session.token))] : [],
    );
  });
});

describe('refusals: one audit event, one shape', () => {
  it('writes the same fields for a refusal of the rules and one of the protocol', async () => {
    const { tenantId, connection, clock, request } = await world();
    const denying = { ...connection, policy: { ...connection.policy, jitPolicy: 'deny' as const } };
    await signIn(
      db,
      { tenantId, connection: denying, asserted: { subject: 'fi@example.com' } },
      context,
      clock,
    );
    await request('_r5');
    const refused = await refuseSignIn(
      db,
      {
        tenantId,
        connection,
        reason: 'signature_invalid',
        detail: 'Invalid signature',
        request: { id: '_r5', browserBinding: browser },
      },
      context,
      clock,
    );
    expect(refused).toEqual({ reason: 'signature_invalid', detail: 'Invalid signature' });
    // Its request was consumed: an answer to it now names a request that is gone.
    expect(
      await refuseSignIn(
        db,
        {
          tenantId,
          connection,
          reason: 'signature_invalid',
          detail: 'Invalid signature',
          request: { id: '_r5', browserBinding: browser },
        },
        context,
        clock,
      ),
    ).toMatchObject({ reason: 'unknown_in_response_to' });
    expect(await refusals(tenantId)).toEqual([
      {
        target_type: 'user',
        target_id: 'fi@example.com',
        changes: {
          reason: 'not_provisioned',
          detail: expect.any(String),
          idpId: connection.id,
          nameId: 'fi@example.com',
        },
      },
      {
        target_type: 'saml_idp',
        target_id: connection.id,
        changes: { reason: 'signature_invalid', detail: 'Invalid signature', idpId: connection.id },
      },
      {
        target_type: 'saml_idp',
        target_id: connection.id,
        changes: {
          reason: 'unknown_in_response_to',
          detail: expect.any(String),
          idpId: connection.id,
        },
      },
    ]);
  });
});

describe('sessions', () => {
  it("end a user's sessions only within the tenant asked", async () => {
    const { tenantId, clock, attempt } = await world(true);
    const signedIn = await signIn(db, attempt('gu@example.com', undefined), context, clock);
    if (signedIn.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const other = await world();
    const ended = await db
      .transaction()
      .execute((tx) => endUserSessions(tx, other.tenantId, signedIn.user.id));
    expect(ended).toBe(0);
    expect(
      await db.transaction().execute((tx) => endUserSessions(tx, tenantId, signedIn.user.id)),
    ).toBe(1);
  });
});
