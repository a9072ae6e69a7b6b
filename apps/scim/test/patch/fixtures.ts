import { expect } from 'vitest';
import { ScimError } from '../../src/errors/scim-error.js';
import { applyUserPatch, normalisePatchRequest, PATCH_OP_SCHEMA } from '../../src/patch/index.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const USER_ID = '2819c223-7f76-453a-919d-413861904646';
export const GROUP_ID = 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b';

/** A stored user as the routes hand it over: RFC 7643 §8.2's Barbara Jensen, trimmed. */
export function storedUser(): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    id: USER_ID,
    externalId: 'bjensen',
    userName: 'bjensen@example.com',
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    displayName: 'Babs Jensen',
    active: true,
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    [ENTERPRISE]: {
      employeeNumber: '701984',
      department: 'Tour Operations',
      manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
    },
    meta: {
      resourceType: 'User',
      created: '2026-01-01T00:00:00.000Z',
      lastModified: '2026-01-01T00:00:00.000Z',
      location: `https://scim.example.test/scim/v2/acme/Users/${USER_ID}`,
    },
  };
}

export function storedGroup(): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: GROUP_ID,
    displayName: 'Tour Guides',
    meta: {
      resourceType: 'Group',
      location: `https://scim.example.test/scim/v2/acme/Groups/${GROUP_ID}`,
    },
  };
}

/** A PATCH body around these operations. */
export const patchBody = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

/** What a route does for a user: normalise, then apply. */
export async function patchUser(body: unknown, current = storedUser()) {
  const { request, quirks } = normalisePatchRequest(body, 'User', current);
  return { result: await applyUserPatch(current, request), quirks, request };
}

/** Runs `fn` and returns the ScimError it throws (or rejects with); fails the test otherwise. */
export async function scimErrorOf(fn: () => unknown): Promise<ScimError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    return error as ScimError;
  }
  return expect.fail('expected a ScimError');
}

/** The status and scimType of the error `fn` throws. */
export async function failureOf(fn: () => unknown) {
  const error = await scimErrorOf(fn);
  return { status: error.status, scimType: error.scimType };
}
