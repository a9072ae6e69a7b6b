// Every event type, produced through the real use cases, checked against its published JSON
// schema (docs/events/) with an implementation we did not write (ajv).
import { readFile } from 'node:fs/promises';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import type { User, UserAttributes } from '../users/user.js';
import { deactivateUser, restoreUser } from '../provisioning/lifecycle.js';
import {
  createUserFromScim,
  deleteUserFromScim,
  patchUserFromScim,
} from '../provisioning/provision-from-scim.js';
import {
  createGroupFromScim,
  deleteGroupFromScim,
  patchGroupFromScim,
  updateGroupFromScim,
} from '../provisioning/provision-groups.js';
import { purgeExpiredUsers } from '../provisioning/purge.js';
import { signIn, type SignInConnection } from '../sign-in/sign-in.js';
import { removeSamlIdp } from '../saml/saml-idp.repository.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';
import { endSession, endSessionsBySamlLogout } from '../sessions/session.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { EVENT_TYPES, eventJson, readEvents, type EventType, type RosterEvent } from './event.js';
import { MAX_MEMBERS_PER_EVENT, memberChanges } from './payloads.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const operator: ChangeContext = { actor: { type: 'operator', id: 'op' } };
const DAY_MS = 86_400_000;
const SCHEMA_DIR = new URL('../../../../docs/events/', import.meta.url);
/** Keys that would betray a secret or the stored SCIM representation in an event body. */
const SECRET_LOOKING = /scimResource|token|secret|password|hash|cookie|credential/i;

let database: TestDatabase;
const validators = new Map<EventType, ValidateFunction>();
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  // Formats are checked, not just annotated: the two the schemas use.
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  for (const type of EVENT_TYPES) {
    const schema = JSON.parse(await readFile(new URL(`${type}.schema.json`, SCHEMA_DIR), 'utf8'));
    validators.set(type, ajv.compile(schema));
  }
});
afterAll(() => database.close());

async function world() {
  n += 1;
  const clock = fixedClock('2026-06-01T00:00:00Z');
  const tenant = await createTenant(database.db, `events-${n}`, operator);
  const { id: idpId } = await database.db
    .insertInto('saml_idps')
    .values({
      tenant_id: tenant.id,
      name: 'idp',
      entity_id: `https://idp.example/${n}`,
      sso_url: 'https://idp.example/sso',
      signing_certificates: ['x'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const events = async () =>
    (await readEvents(database.db, tenant.id, { afterSeq: 0, limit: 1_000 })).events;
  return { tenantId: tenant.id, idpId, clock, events };
}

/** The attributes of a user as a SCIM PUT would send them, with `change` on top. */
const put =
  (change: Partial<UserAttributes>) =>
  (user: User): UserAttributes => ({
    userName: user.userName,
    externalId: user.externalId,
    displayName: user.displayName,
    givenName: user.givenName,
    familyName: user.familyName,
    emails: user.emails,
    ...change,
  });

/** Every key anywhere in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

const ofType = (events: RosterEvent[], type: EventType) =>
  events.filter((event) => event.type === type);

describe('event bodies', () => {
  it('every type, made by the real use cases, matches its published schema and holds no secret', async () => {
    const { tenantId, idpId, clock, events } = await world();
    const ada = (
      await createUserFromScim(
        database.db,
        tenantId,
        {
          userName: 'ada@example.com',
          externalId: 'ext-ada',
          givenName: 'Ada',
          familyName: 'Lovelace',
          emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
          scimResource: { password: 'not-for-apps', title: 'Countess' },
        },
        scim,
        clock,
      )
    ).user;
    const bob = (await createUserFromScim(database.db, tenantId, { userName: 'bob' }, scim, clock))
      .user;
    await patchUserFromScim(
      database.db,
      tenantId,
      ada.id,
      put({ displayName: 'Ada L.' }),
      scim,
      clock,
    );
    await patchUserFromScim(database.db, tenantId, ada.id, put({ active: false }), scim, clock);
    await patchUserFromScim(database.db, tenantId, ada.id, put({ active: true }), scim, clock);
    await deleteUserFromScim(database.db, tenantId, ada.id, scim, clock);
    await restoreUser(database.db, tenantId, ada.id, operator, clock);

    // A just-in-time user signs in with a group its assertion names, then again in the same
    // browser (the first session is replaced; the group no longer named), signs out, signs in
    // once more and is deactivated.
    const connection: SignInConnection = {
      id: idpId,
      kind: 'saml',
      policy: { jitPolicy: 'create', matchBy: 'username', allowUnsolicited: true },
    };
    const jit = (groups: string[], previousSessionToken?: string) =>
      signIn(
        database.db,
        {
          tenantId,
          connection,
          asserted: { subject: 'jit@example.com', groups },
          previousSessionToken,
        },
        { actor: { type: 'idp', id: idpId } },
        clock,
      );
    const first = await jit(['Pilots']);
    if (first.outcome !== 'signed_in') throw new Error('expected a sign-in');
    const second = await jit([], first.session.token);
    if (second.outcome !== 'signed_in') throw new Error('expected a sign-in');
    await endSession(database.db, tenantId, second.session.token);
    await jit(['Pilots']);
    await deactivateUser(database.db, tenantId, first.user.id, operator, clock);

    const team = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'Team', externalId: 'ext-team' },
      [ada.id, bob.id],
      scim,
      clock,
    );
    await patchGroupFromScim(
      database.db,
      tenantId,
      team.id,
      () => ({ attributes: { displayName: 'The Team', externalId: 'ext-team' } }),
      scim,
      clock,
    );
    await updateGroupFromScim(
      database.db,
      tenantId,
      team.id,
      { members: { remove: [bob.id] } },
      scim,
      clock,
    );
    await deleteGroupFromScim(database.db, tenantId, team.id, scim);

    const cy = (
      await createUserFromScim(
        database.db,
        tenantId,
        { userName: 'cy@example.com', displayName: 'Cy Young' },
        scim,
        clock,
      )
    ).user;
    await deleteUserFromScim(database.db, tenantId, cy.id, scim, clock);
    clock.advance(91 * DAY_MS); // past the default 90-day grace period
    expect((await purgeExpiredUsers(database.db, clock, { tenantId })).purged).toBe(1);

    const all = await events();
    expect(new Set(all.map((event) => event.type))).toEqual(new Set(EVENT_TYPES));
    for (const event of all) {
      const body = JSON.parse(JSON.stringify(eventJson(event)));
      const validate = validators.get(event.type);
      expect(validate?.(body), `${event.type}: ${JSON.stringify(validate?.errors)}`).toBe(true);
      expect(keysOf(body).filter((key) => SECRET_LOOKING.test(key))).toEqual([]);
      expect(JSON.stringify(body)).not.toContain('not-for-apps');
    }

    // The schemas are strict: a stored SCIM representation in a body would not pass.
    const leaky = JSON.parse(JSON.stringify(eventJson(all[0] as RosterEvent)));
    leaky.data.user.scimResource = {};
    expect(validators.get('user.created')?.(leaky)).toBe(false);

    // What an app reads in them.
    const [created] = ofType(all, 'user.created');
    expect(created?.data).toMatchObject({
      user: { id: ada.id, userName: 'ada@example.com', active: true, state: 'active' },
      changed: { givenName: { before: null, after: 'Ada' } },
    });
    expect(ofType(all, 'user.updated')[0]?.data.changed).toEqual({
      displayName: { before: null, after: 'Ada L.' },
    });
    expect(ofType(all, 'user.deactivated').map((event) => event.data.reason)).toEqual([
      'scim',
      'operator',
    ]);
    expect(ofType(all, 'user.deprovisioned')[0]?.data).toMatchObject({
      reason: 'scim_delete',
      user: { state: 'deprovisioned', active: false },
    });
    expect(ofType(all, 'user.purged')[0]?.data).toEqual({ user: { id: cy.id } });
    // A purge forgets what the user's earlier events said about the person, as it does the
    // audit trail's: they name the user by id only (and still match their schemas, above).
    const ofCy = all.filter((event) => (event.data.user as { id?: string } | null)?.id === cy.id);
    expect(ofCy.map((event) => event.type)).toEqual([
      'user.created',
      'user.deprovisioned',
      'user.purged',
    ]);
    for (const event of ofCy) {
      expect(event.data.user).toEqual({ id: cy.id });
      expect(JSON.stringify(event.data)).not.toMatch(/cy@example\.com|Cy Young/);
    }
    expect(ofType(all, 'session.ended').map((event) => event.data.reason)).toEqual([
      'replaced',
      'signed_out',
      'user_ended',
    ]);
    expect(
      ofType(all, 'session.ended').every(
        (event) => (event.data.user as { id: string }).id === first.user.id,
      ),
    ).toBe(true);
    const pilots = ofType(all, 'group.created').find(
      (event) => (event.data.group as { displayName: string }).displayName === 'Pilots',
    );
    expect(pilots?.data.group).toMatchObject({ managedBy: 'jit' });
    const member = (event: RosterEvent) => [event.data.group, event.data.members];
    const jitMember = [{ type: 'user', id: first.user.id }];
    const teamMembers = [ada.id, bob.id].map((id) => ({ type: 'user', id })).sort(byId);
    expect(
      ofType(all, 'group.members_added').map((event) => [
        event.data.group,
        [...(event.data.members as { id: string }[])].sort(byId),
      ]),
    ).toEqual([
      [{ id: pilots?.data.group && (pilots.data.group as { id: string }).id }, jitMember],
      [{ id: (pilots?.data.group as { id: string }).id }, jitMember],
      [{ id: team.id }, teamMembers],
    ]);
    expect(ofType(all, 'group.members_removed').map(member)).toEqual([
      [{ id: (pilots?.data.group as { id: string }).id }, jitMember],
      [{ id: team.id }, [{ type: 'user', id: bob.id }]],
    ]);
    expect(ofType(all, 'group.updated').map((event) => event.data.changed)).toEqual([
      { displayName: { before: 'Team', after: 'The Team' } },
    ]);
    expect(ofType(all, 'group.deleted')[0]?.data.group).toMatchObject({
      id: team.id,
      displayName: 'The Team',
    });
  });
});

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

describe('membership events', () => {
  it('carry the delta only: one member added to a group is one small event, no group.updated', async () => {
    const { tenantId, clock, events } = await world();
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      ids.push(
        (await createUserFromScim(database.db, tenantId, { userName: name }, scim, clock)).user.id,
      );
    }
    const [a, b, c] = ids as [string, string, string];
    const group = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'G' },
      [a, b],
      scim,
      clock,
    );
    const before = (await events()).length;

    await updateGroupFromScim(
      database.db,
      tenantId,
      group.id,
      { members: { add: [c, a] } },
      scim,
      clock,
    );
    let added = (await events()).slice(before);
    expect(added.map((event) => [event.type, event.data])).toEqual([
      ['group.members_added', { group: { id: group.id }, members: [{ type: 'user', id: c }] }],
    ]);

    // A PUT naming the members it already has changes nothing, and says nothing.
    await updateGroupFromScim(
      database.db,
      tenantId,
      group.id,
      { attributes: { displayName: 'G' }, members: { replaceAll: [a, b, c] } },
      scim,
      clock,
    );
    expect((await events()).length).toBe(before + 1);

    // A PUT replacing members: the ones it drops removed, the new ones added, the rest untouched.
    const subgroup = await createGroupFromScim(
      database.db,
      tenantId,
      { displayName: 'S' },
      [],
      scim,
      clock,
    );
    await updateGroupFromScim(
      database.db,
      tenantId,
      group.id,
      { members: { replaceAll: [c, subgroup.id] } },
      scim,
      clock,
    );
    added = (await events()).slice(before + 2);
    expect(
      added.map((event) => [event.type, [...(event.data.members as { id: string }[])].sort(byId)]),
    ).toEqual([
      [
        'group.members_removed',
        [
          { type: 'user', id: a },
          { type: 'user', id: b },
        ].sort(byId),
      ],
      ['group.members_added', [{ type: 'group', id: subgroup.id }]],
    ]);
  });

  it('split a change of more members than one event carries into consecutive rows', () => {
    const members = Array.from({ length: 2 * MAX_MEMBERS_PER_EVENT + 1 }, (_, i) => ({
      type: 'user' as const,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const rows = memberChanges('group.members_removed', { id: 'g', version: 3 }, members);
    expect(rows.map((row) => (row.payload?.members as unknown[]).length)).toEqual([
      MAX_MEMBERS_PER_EVENT,
      MAX_MEMBERS_PER_EVENT,
      1,
    ]);
    expect(rows.flatMap((row) => row.payload?.members)).toEqual(members);
  });
});

describe('session.ended', () => {
  it('is one event per session, for the IdP’s logout and a removed connection too', async () => {
    const { tenantId, idpId, clock, events } = await world();
    const idp: ChangeContext = { actor: { type: 'idp', id: idpId } };
    const signIn = async (sessionIndex: string) => {
      const result = await signInWithSaml(
        database.db,
        tenantId,
        idpId,
        { nameId: 'kim@example.com', sessionIndex },
        idp,
        clock,
      );
      if (result.outcome !== 'signed_in') throw new Error('expected a sign-in');
      return result.user.id;
    };
    const kim = await signIn('_1');
    await signIn('_2');
    expect(await endSessionsBySamlLogout(database.db, tenantId, idpId, 'kim@example.com')).toBe(2);
    await signIn('_3');
    await removeSamlIdp(database.db, tenantId, idpId, operator);

    const ended = ofType(await events(), 'session.ended');
    expect(ended.map((event) => [event.data.reason, event.data.user])).toEqual([
      ['idp_logout', { id: kim }],
      ['idp_logout', { id: kim }],
      ['connection_removed', { id: kim }],
    ]);
    // Consecutive: the two sessions of one logout were appended by one statement.
    expect((ended[1]?.seq ?? 0) - (ended[0]?.seq ?? 0)).toBe(1);
    expect(new Set(ended.map((event) => (event.data.session as { id: string }).id)).size).toBe(3);
    for (const event of ended)
      expect(validators.get('session.ended')?.(JSON.parse(JSON.stringify(eventJson(event))))).toBe(
        true,
      );
  });
});
