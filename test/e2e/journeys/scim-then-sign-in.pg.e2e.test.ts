// Journey 2: SCIM pushes first; the first sign-in links to that user and creates
// nothing (rule 2: match by userName, then link).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directoryOf,
  scimUser,
  startJourneyStack,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

let stack: JourneyStack;
let acme: JourneyTenant;
beforeAll(async () => {
  stack = await startJourneyStack();
  acme = await stack.tenant('journey2');
});
afterAll(() => stack.close());

describe('journey 2: SCIM first, then the sign-in', () => {
  it('links the sign-in to the SCIM user and creates no user', async () => {
    const nameId = 'cy@journey2.example';
    const created = await acme.scim.post(
      '/Users',
      scimUser(nameId, { name: { givenName: 'Cy', familyName: 'Scim' } }),
    );
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const before = await directoryOf(stack.database, acme.tenant.id);
    expect(before.users).toHaveLength(1);
    expect(before.users[0]).toMatchObject({ id, source: 'scim', managed_by: 'scim' });
    expect(before.links).toEqual([]);

    const browser = stack.browser();
    const acs = await browser.signIn(acme.idp, acme.sp, nameId);
    expect(acs.status).toBe(303);
    const me = await browser.whoami(acme.slug);
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(id);
    // SCIM's attributes, not the assertion's display name.
    expect(me.body.user.givenName).toBe('Cy');

    const after = await directoryOf(stack.database, acme.tenant.id);
    expect(after.users).toHaveLength(1);
    expect(after.users[0]).toMatchObject({ id, source: 'scim', managed_by: 'scim' });
    expect(after.links).toEqual([{ idp_id: acme.idpConfig.id, name_id: nameId, user_id: id }]);
    expect(after.sessions).toEqual([{ user_id: id, idp_id: acme.idpConfig.id }]);

    // SCIM still sees one user with the same id.
    const found = await acme.scim.findByUserName(nameId);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);
  });
});
