// Journey 4: SCIM DELETE deprovisions (rule 5): 404 on SCIM, sign-in
// refused; a SCIM create of the same person within the grace period restores the same id; once
// the grace period is over (the shared clock moved by hand) the purge removes the user with its
// links, sessions, emails and memberships.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directoryOf,
  GROUP_SCHEMA,
  refusalReasons,
  scimUser,
  startJourneyStack,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

const GRACE_DAYS = 30;
const DAY_MS = 86_400_000;

let stack: JourneyStack;
let acme: JourneyTenant;
beforeAll(async () => {
  stack = await startJourneyStack();
  acme = await stack.tenant('journey4', { gracePeriodDays: GRACE_DAYS });
});
afterAll(() => stack.close());

const purge = () => stack.admin('post', '/v1/jobs/purge', { tenant: acme.slug, dryRun: false });

async function rowsOf(userId: string) {
  const db = stack.database.db;
  const count = async (query: Promise<unknown[]>) => (await query).length;
  return {
    users: await count(db.selectFrom('users').select('id').where('id', '=', userId).execute()),
    links: await count(
      db.selectFrom('saml_links').select('user_id').where('user_id', '=', userId).execute(),
    ),
    sessions: await count(
      db.selectFrom('sessions').select('user_id').where('user_id', '=', userId).execute(),
    ),
    emails: await count(
      db.selectFrom('user_emails').select('user_id').where('user_id', '=', userId).execute(),
    ),
    memberships: await count(
      db
        .selectFrom('group_members')
        .select('group_id')
        .where('member_user_id', '=', userId)
        .execute(),
    ),
  };
}

describe('journey 4: SCIM DELETE, restore within the grace period, purge after it', () => {
  it('deprovisions, restores the same id, then purges everything of the person', async () => {
    const nameId = 'fay@journey4.example';
    const created = await acme.scim.post('/Users', scimUser(nameId));
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const group = await acme.scim.post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'journey4-team',
      members: [{ value: id }],
    });
    expect(group.status).toBe(201);
    const browser = stack.browser();
    expect((await browser.signIn(acme.idp, acme.sp, nameId)).status).toBe(303);
    expect(await rowsOf(id)).toEqual({
      users: 1,
      links: 1,
      sessions: 1,
      emails: 1,
      memberships: 1,
    });

    // DELETE: gone for SCIM, the live session ended, the next sign-in refused.
    const deleted = await acme.scim.delete(`/Users/${id}`);
    expect(deleted.status).toBe(204);
    expect((await acme.scim.get(`/Users/${id}`)).status).toBe(404);
    expect((await acme.scim.findByUserName(nameId)).body.totalResults).toBe(0);
    expect((await acme.scim.delete(`/Users/${id}`)).status).toBe(404);
    expect((await browser.whoami(acme.slug)).status).toBe(401);
    const refused = await stack.browser().signIn(acme.idp, acme.sp, nameId);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Your account has been removed');
    expect((await refusalReasons(stack.database, acme.tenant.id)).at(-1)).toBe('deprovisioned');
    const [gone] = (await directoryOf(stack.database, acme.tenant.id)).users;
    expect(gone).toMatchObject({ id, lifecycle_state: 'deprovisioned', active: false });
    expect(new Date(String(gone?.purge_after)).getTime()).toBe(
      new Date(String(gone?.deprovisioned_at)).getTime() + GRACE_DAYS * DAY_MS,
    );
    expect((await rowsOf(id)).sessions).toBe(0);
    expect((await rowsOf(id)).links).toBe(1);

    // Ten days later, within the grace period: the IdP creates the same person again.
    stack.clock.advance(10 * DAY_MS);
    expect((await purge()).body).toMatchObject({ purged: 0 });
    const restored = await acme.scim.post('/Users', scimUser(nameId));
    expect(restored.status).toBe(201);
    expect(restored.body.id).toBe(id);
    expect((await acme.scim.get(`/Users/${id}`)).status).toBe(200);
    const [back] = (await directoryOf(stack.database, acme.tenant.id)).users;
    expect(back).toMatchObject({
      id,
      lifecycle_state: 'active',
      active: true,
      purge_after: null,
    });
    expect((await rowsOf(id)).links).toBe(1);

    // Deleted again; one day short of the grace period nothing is purged.
    expect((await acme.scim.delete(`/Users/${id}`)).status).toBe(204);
    stack.clock.advance((GRACE_DAYS - 1) * DAY_MS);
    const early = await purge();
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ purged: 0 });
    expect((await rowsOf(id)).users).toBe(1);

    // After it: the purge removes the user and everything that pointed at it.
    stack.clock.advance(2 * DAY_MS);
    const late = await purge();
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ purged: 1, remaining: 0 });
    expect(await rowsOf(id)).toEqual({
      users: 0,
      links: 0,
      sessions: 0,
      emails: 0,
      memberships: 0,
    });
    const state = await directoryOf(stack.database, acme.tenant.id);
    expect(state).toEqual({ users: [], links: [], sessions: [] });
    const purgedEvents = await stack.database.db
      .selectFrom('audit_events')
      .select('target_id')
      .where('tenant_id', '=', acme.tenant.id)
      .where('action', '=', 'user.purged')
      .execute();
    expect(purgedEvents).toEqual([{ target_id: id }]);
    // The group stays, without the member.
    const team = await acme.scim.get(`/Groups/${String(group.body.id)}`);
    expect(team.status).toBe(200);
    expect(team.body.members ?? []).toEqual([]);

    // The same person pushed now is a new user: the old id is gone for good.
    const fresh = await acme.scim.post('/Users', scimUser(nameId));
    expect(fresh.status).toBe(201);
    expect(fresh.body.id).not.toBe(id);
    expect((await acme.scim.get(`/Users/${id}`)).status).toBe(404);
  });
});
