// Journey 3: SCIM sets `active: false`; the live session ends at once (whoami 401,
// rule 4) and the next sign-in is refused with a clear page and an audit event
// (rule 3), without JIT bringing the person back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directoryOf,
  PATCH_SCHEMA,
  refusalReasons,
  scimUser,
  startJourneyStack,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

let stack: JourneyStack;
let acme: JourneyTenant;
beforeAll(async () => {
  stack = await startJourneyStack();
  acme = await stack.tenant('journey3');
});
afterAll(() => stack.close());

describe('journey 3: SCIM deactivates a signed-in person', () => {
  it('ends the live session at once and refuses the next sign-in with a 403 page', async () => {
    const nameId = 'dee@journey3.example';
    const created = await acme.scim.post('/Users', scimUser(nameId));
    expect(created.status).toBe(201);
    const id = String(created.body.id);

    const browser = stack.browser();
    expect((await browser.signIn(acme.idp, acme.sp, nameId)).status).toBe(303);
    expect((await browser.whoami(acme.slug)).status).toBe(200);
    expect((await directoryOf(stack.database, acme.tenant.id)).sessions).toHaveLength(1);

    // Entra's form of a deactivation.
    const deactivated = await acme.scim.patch(`/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.active).toBe(false);

    // At once: no grace, no cache. The same cookie is now worth nothing.
    const me = await browser.whoami(acme.slug);
    expect(me.status).toBe(401);
    const state = await directoryOf(stack.database, acme.tenant.id);
    expect(state.sessions).toEqual([]);
    expect(state.users).toHaveLength(1);
    expect(state.users[0]).toMatchObject({ id, active: false, lifecycle_state: 'inactive' });

    // The next sign-in: a clear page, 403, the reason in the audit trail, nothing created.
    const refusedBefore = (await refusalReasons(stack.database, acme.tenant.id)).length;
    const next = stack.browser();
    const refused = await next.signIn(acme.idp, acme.sp, nameId);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/html/);
    expect(refused.text).toContain('Your account is deactivated');
    expect(next.cookies.has('roster_session')).toBe(false);
    expect((await next.whoami(acme.slug)).status).toBe(401);
    const reasons = await refusalReasons(stack.database, acme.tenant.id);
    expect(reasons.slice(refusedBefore)).toEqual(['inactive']);

    const after = await directoryOf(stack.database, acme.tenant.id);
    expect(after.users).toHaveLength(1);
    expect(after.users[0]).toMatchObject({ id, active: false });
    expect(after.sessions).toEqual([]);

    // SCIM reactivates: the person may sign in again, as the same user.
    const reactivated = await acme.scim.patch(`/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(reactivated.status).toBe(200);
    const back = stack.browser();
    expect((await back.signIn(acme.idp, acme.sp, nameId)).status).toBe(303);
    expect((await back.whoami(acme.slug)).body.user.id).toBe(id);
  });

  it('a JIT user deactivated by SCIM is refused too, and JIT does not reactivate it', async () => {
    const nameId = 'eve@journey3.example';
    const browser = stack.browser();
    expect((await browser.signIn(acme.idp, acme.sp, nameId)).status).toBe(303);
    const id = String((await browser.whoami(acme.slug)).body.user.id);

    const put = await acme.scim.put(`/Users/${id}`, scimUser(nameId, { active: false }));
    expect(put.status).toBe(200);
    expect(put.body.id).toBe(id);
    expect((await browser.whoami(acme.slug)).status).toBe(401);

    const refused = await stack.browser().signIn(acme.idp, acme.sp, nameId);
    expect(refused.status).toBe(403);
    expect((await refusalReasons(stack.database, acme.tenant.id)).at(-1)).toBe('inactive');
    const mine = (await directoryOf(stack.database, acme.tenant.id)).users.filter(
      (u) => u.user_name === nameId,
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ id, active: false, managed_by: 'scim' });
  });
});
