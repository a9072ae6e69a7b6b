// Which apps ride on a Roster session, and what the end of the session does to them, for every
// way a session ends: the provider's sessions and grants go, a notice is queued per app that
// listens, with the reason; idle expiry queues nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import { inTransaction } from '../db/transaction.js';
import { deactivateUser } from '../provisioning/lifecycle.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';
import { endSession, endSessionsBySamlLogout, pruneExpiredSessions } from '../sessions/session.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import {
  BACKCHANNEL_LOGOUT_DELIVERY,
  endAppSessions,
  endProviderSession,
  providerSessionIsLive,
  pruneProviderState,
  recordAppSignIn,
  sessionReference,
} from './app-sessions.js';
import { addOidcApp } from './oidc-app.js';
import { saveProviderRecord } from './provider-state.js';

const operator = { actor: { type: 'operator' as const, id: 't' } };
const policy = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 4 * 3_600_000 };
let database: TestDatabase;
let tenantId: string;
let idpId: string;
let listening: string;
let silent: string;

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await createTenant(database.db, 'apps', operator)).id;
  idpId = (
    await database.db
      .insertInto('saml_idps')
      .values({
        tenant_id: tenantId,
        name: 'idp',
        entity_id: 'https://idp.example/',
        sso_url: 'https://idp.example/sso',
        signing_certificates: [],
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  const add = (name: string, backchannelLogoutUri: string | null) =>
    addOidcApp(
      database.db,
      tenantId,
      { name, redirectUris: ['https://app.example/cb'], backchannelLogoutUri },
      operator,
    );
  listening = (await add('Listening', 'https://app.example/logout')).app.clientId;
  silent = (await add('Silent', null)).app.clientId;
});
afterAll(() => database.close());

let next = 0;
/** A SAML sign-in, then both apps signed in through one provider session riding on it. */
async function signedInToBothApps(clock: ReturnType<typeof fixedClock>, nameId: string) {
  const result = await signInWithSaml(
    database.db,
    tenantId,
    idpId,
    { nameId, sessionIndex: `_s${next}` },
    { actor: { type: 'idp', id: idpId } },
    clock,
    policy,
  );
  if (result.outcome !== 'signed_in') throw new Error(result.reason);
  const providerSessionUid = `uid-${next++}`;
  const grants = [`grant-${next}-a`, `grant-${next}-b`];
  const first = await recordAppSignIn(database.db, tenantId, {
    providerSessionUid,
    clientId: listening,
    accountId: result.user.id,
    sid: 'sid-listening',
    grantId: grants[0],
    sessionReference: sessionReference(result.session.token),
  });
  // The second app rides on the same provider session, without naming the Roster session.
  const second = await recordAppSignIn(database.db, tenantId, {
    providerSessionUid,
    clientId: silent,
    accountId: result.user.id,
    sid: 'sid-silent',
    grantId: grants[1],
  });
  expect([first, second]).toEqual([true, true]);
  for (const [index, grantId] of grants.entries())
    await saveProviderRecord(database.db, tenantId, {
      model: 'AccessToken',
      id: `token-${providerSessionUid}-${index}`,
      payload: { grantId },
      grantId,
      uid: null,
      accountId: result.user.id,
      expiresAt: undefined,
    });
  await saveProviderRecord(database.db, tenantId, {
    model: 'Session',
    id: `jti-${providerSessionUid}`,
    payload: { uid: providerSessionUid },
    grantId: null,
    uid: providerSessionUid,
    accountId: result.user.id,
    expiresAt: undefined,
  });
  return { token: result.session.token, userId: result.user.id, providerSessionUid };
}

const notices = async () =>
  (
    await database.db
      .selectFrom('outbound_deliveries')
      .select(['kind', 'target_url', 'payload'])
      .where('tenant_id', '=', tenantId)
      .orderBy('id')
      .execute()
  ).map((row) => ({ kind: row.kind, target: row.target_url, payload: row.payload }));

const providerRowsOf = async (userId: string) =>
  (
    await database.db
      .selectFrom('oidc_payloads')
      .select('model')
      .where('tenant_id', '=', tenantId)
      .where('account_id', '=', userId)
      .execute()
  ).length;

describe('the end of a Roster session reaches the apps signed in through it', () => {
  it.each([
    [
      'a sign-out',
      'signed_out',
      async (s: { token: string }) => {
        await endSession(database.db, tenantId, s.token);
      },
    ],
    [
      "the IdP's single logout",
      'idp_logout',
      async (s: { nameId: string }) => {
        await endSessionsBySamlLogout(database.db, tenantId, idpId, s.nameId);
      },
    ],
    [
      'a deactivation',
      'user_ended',
      async (s: { userId: string }) => {
        await deactivateUser(database.db, tenantId, s.userId, operator, fixedClock(new Date()));
      },
    ],
    [
      "an app's RP-initiated logout",
      'signed_out',
      async (s: { providerSessionUid: string }) => {
        expect(await endProviderSession(database.db, tenantId, s.providerSessionUid)).toBe(true);
      },
    ],
  ] as const)(
    '%s: one notice to the app that listens, its grants gone',
    async (_how, reason, end) => {
      await database.db.deleteFrom('outbound_deliveries').execute();
      const clock = fixedClock(new Date());
      const nameId = `${reason}-${next}@example.com`;
      const signedIn = await signedInToBothApps(clock, nameId);
      expect(
        await providerSessionIsLive(
          database.db,
          tenantId,
          signedIn.providerSessionUid,
          signedIn.userId,
          clock,
        ),
      ).toBe(true);
      expect(await providerRowsOf(signedIn.userId)).toBe(3);

      await end({ ...signedIn, nameId });

      expect(await notices()).toEqual([
        {
          kind: BACKCHANNEL_LOGOUT_DELIVERY,
          target: 'https://app.example/logout',
          payload: { clientId: listening, sub: signedIn.userId, sid: 'sid-listening', reason },
        },
      ]);
      expect(await providerRowsOf(signedIn.userId)).toBe(0);
      expect(
        await providerSessionIsLive(
          database.db,
          tenantId,
          signedIn.providerSessionUid,
          signedIn.userId,
          clock,
        ),
      ).toBe(false);
    },
  );

  it('queues nothing when a session only times out, and forgets it when pruned', async () => {
    await database.db.deleteFrom('outbound_deliveries').execute();
    const clock = fixedClock(new Date());
    const signedIn = await signedInToBothApps(clock, `idle-${next}@example.com`);
    clock.advance(policy.idleTimeoutMs + 1000);
    expect(
      await providerSessionIsLive(
        database.db,
        tenantId,
        signedIn.providerSessionUid,
        signedIn.userId,
        clock,
      ),
    ).toBe(false);
    await pruneExpiredSessions(database.db, clock.now());
    expect(await pruneProviderState(database.db, clock.now())).toBeGreaterThanOrEqual(2);
    expect(await notices()).toEqual([]);
    expect(
      await recordAppSignIn(database.db, tenantId, {
        providerSessionUid: signedIn.providerSessionUid,
        clientId: listening,
        accountId: signedIn.userId,
        sid: 'late',
      }),
    ).toBe(false);
  });

  it('does nothing for sessions no app rode on', async () => {
    expect(
      await inTransaction(database.db, (tx) =>
        endAppSessions(tx, tenantId, [Buffer.alloc(32)], 'signed_out'),
      ),
    ).toBe(0);
  });
});
