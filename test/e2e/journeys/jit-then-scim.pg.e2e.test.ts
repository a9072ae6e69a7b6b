// Journey 1: the first sign-in by SAML creates a JIT user; SCIM then pushes the same
// person, and it is still one user with the same id, now SCIM-managed (rule 1). Both
// ways an IdP pushes are covered: Entra's filtered GET then PATCH, and a plain POST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  directoryOf,
  PATCH_SCHEMA,
  scimUser,
  startJourneyStack,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

let stack: JourneyStack;
let acme: JourneyTenant;
beforeAll(async () => {
  stack = await startJourneyStack();
  acme = await stack.tenant('journey1');
});
afterAll(() => stack.close());

/** Signs `nameId` in for the first time; returns the browser and the JIT user's id. */
async function firstSignIn(nameId: string) {
  const browser = stack.browser();
  const acs = await browser.signIn(acme.idp, acme.sp, nameId);
  expect(acs.status).toBe(303);
  expect(browser.cookies.has('roster_session')).toBe(true);
  const me = await browser.whoami(acme.slug);
  expect(me.status).toBe(200);
  expect(me.body.user.userName).toBe(nameId);
  const jit = (await directoryOf(stack.database, acme.tenant.id)).users.find(
    (u) => u.user_name === nameId,
  );
  expect(jit).toMatchObject({ source: 'jit', managed_by: 'jit', active: true, adopted_at: null });
  expect(me.body.user.id).toBe(jit?.id);
  return { browser, id: String(jit?.id) };
}

describe('journey 1: JIT first, then SCIM pushes the same person', () => {
  it('Entra: the filtered GET finds the JIT user, the PATCH adopts it: one user, same id', async () => {
    const nameId = 'ann@journey1.example';
    const { browser, id } = await firstSignIn(nameId);

    // Entra looks the person up before it creates (apps/scim/test/interop/fixtures/entra.ts).
    const found = await acme.scim.findByUserName(nameId);
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(id);

    // ...then patches what it found, in its own dialect (capitalised ops, no schemas in value).
    const patched = await acme.scim.patch(`/Users/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'Replace', path: 'externalId', value: 'entra-object-ann' },
        { op: 'Replace', path: 'name.givenName', value: 'Ann' },
        { op: 'Replace', path: 'name.familyName', value: 'Lee' },
        { op: 'Replace', path: 'active', value: 'True' },
      ],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.id).toBe(id);
    expect(patched.body.externalId).toBe('entra-object-ann');
    expect(patched.body.name.givenName).toBe('Ann');

    const { users, links } = await directoryOf(stack.database, acme.tenant.id);
    const mine = users.filter((u) => u.user_name.toLowerCase() === nameId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      id,
      source: 'jit',
      managed_by: 'scim',
      external_id: 'entra-object-ann',
      lifecycle_state: 'active',
    });
    expect(mine[0]?.adopted_at).not.toBeNull();
    // The link the sign-in made still points at the same user.
    expect(links.filter((l) => l.name_id === nameId)).toEqual([
      { idp_id: acme.idpConfig.id, name_id: nameId, user_id: id },
    ]);

    // The live session survives adoption, and the next sign-in lands on the same user.
    expect((await browser.whoami(acme.slug)).body.user.id).toBe(id);
    const again = stack.browser();
    expect((await again.signIn(acme.idp, acme.sp, nameId)).status).toBe(303);
    const me = await again.whoami(acme.slug);
    expect(me.body.user.id).toBe(id);
    // SCIM is now the authority: the assertion did not overwrite SCIM's name (rule 2).
    expect(me.body.user.givenName).toBe('Ann');
    const after = await directoryOf(stack.database, acme.tenant.id);
    expect(after.users.filter((u) => u.user_name.toLowerCase() === nameId)).toHaveLength(1);
  });

  it('a plain POST of the same person adopts the JIT user: 201 with the same id', async () => {
    const nameId = 'bo@journey1.example';
    const { id } = await firstSignIn(nameId);
    const before = await directoryOf(stack.database, acme.tenant.id);

    const created = await acme.scim.post('/Users', scimUser(nameId, { externalId: 'okta-bo' }));
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(id);
    expect(created.body.externalId).toBe('okta-bo');

    const { users, links } = await directoryOf(stack.database, acme.tenant.id);
    expect(users).toHaveLength(before.users.length);
    const mine = users.filter((u) => u.user_name.toLowerCase() === nameId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      id,
      source: 'jit',
      managed_by: 'scim',
      external_id: 'okta-bo',
    });
    expect(links.filter((l) => l.user_id === id)).toHaveLength(1);

    // A second POST now meets a SCIM-managed user: 409 uniqueness, nothing written.
    const duplicate = await acme.scim.post('/Users', scimUser(nameId, { externalId: 'okta-bo' }));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.scimType).toBe('uniqueness');
    expect((await directoryOf(stack.database, acme.tenant.id)).users).toHaveLength(
      before.users.length,
    );
  });
});
