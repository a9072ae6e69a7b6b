// every failure as an RFC 7644 §3.12 error, and nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  createUser,
  expectScimError,
  patchOp,
  SCIM_JSON,
  startScim,
  storedVersion,
  UNKNOWN_ID,
  USER_SCHEMA,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

let harness: ScimHarness;
let acme: TenantClient;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
});
afterAll(() => harness.close());

/** Runs a request that must fail and checks it wrote no user and no audit event. */
async function writesNothing(run: () => Promise<void>) {
  const users = await countRows(harness.db, 'users', acme.tenant.id);
  const audit = await countRows(harness.db, 'audit_events', acme.tenant.id);
  await run();
  expect(await countRows(harness.db, 'users', acme.tenant.id)).toBe(users);
  expect(await countRows(harness.db, 'audit_events', acme.tenant.id)).toBe(audit);
}

describe('request bodies (RFC 7644 §3.1, §3.12)', () => {
  it('answers malformed JSON with 400 invalidSyntax', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Users')
        .set('Content-Type', SCIM_JSON)
        .send('{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ');
      expectScimError(res, 400, 'invalidSyntax');
    });
  });

  it('answers a body that is not a JSON object with 400', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Users')
        .set('Content-Type', SCIM_JSON)
        .send('"just a string"');
      expectScimError(res, 400);
    });
  });

  it('answers a text/plain body with 415', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Users')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ schemas: [USER_SCHEMA], userName: 'plain@acme.test' }));
      expectScimError(res, 415);
    });
  });

  it('answers a charset other than UTF-8 with 415', async () => {
    await writesNothing(async () => {
      const res = await acme
        .raw('post', '/Users')
        .set('Content-Type', `${SCIM_JSON}; charset=latin1`)
        .send(JSON.stringify({ schemas: [USER_SCHEMA], userName: 'latin@acme.test' }));
      expectScimError(res, 415);
    });
  });

  it('answers a body over 1 MiB with 413', async () => {
    await writesNothing(async () => {
      const res = await acme.post('/Users', {
        schemas: [USER_SCHEMA],
        userName: 'huge@acme.test',
        displayName: 'x'.repeat(1_048_577),
      });
      expectScimError(res, 413);
    });
  });
});

describe('unknown resources', () => {
  it('answers an unknown user id with 404', async () => {
    expectScimError(await acme.get(`/Users/${UNKNOWN_ID}`), 404);
    expectScimError(await acme.delete(`/Users/${UNKNOWN_ID}`), 404);
  });

  it('answers a non-UUID id with 404, not 400 or 500', async () => {
    expectScimError(await acme.get('/Users/not-a-uuid'), 404);
    expectScimError(await acme.get("/Users/1'%20or%20'1'='1"), 404);
    expectScimError(await acme.delete('/Users/12345'), 404);
    expectScimError(
      await acme.patch('/Users/12345', patchOp({ op: 'replace', path: 'displayName', value: 'x' })),
      404,
    );
  });

  it('answers an unknown endpoint with a SCIM 404', async () => {
    expectScimError(await acme.get('/Nothing/here'), 404);
  });
});

describe('uniqueness (RFC 7644 §3.3: 409 uniqueness)', () => {
  it('refuses a userName that differs only in case', async () => {
    await createUser(acme, 'Ann@x');
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', { schemas: [USER_SCHEMA], userName: 'ann@x' }),
        409,
        'uniqueness',
      );
    });
  });

  it('refuses a duplicate externalId', async () => {
    await createUser(acme, 'first@acme.test', { externalId: 'ext-dup' });
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', {
          schemas: [USER_SCHEMA],
          userName: 'second@acme.test',
          externalId: 'ext-dup',
        }),
        409,
        'uniqueness',
      );
    });
  });

  it("refuses a PUT that takes another user's userName", async () => {
    await createUser(acme, 'holder@acme.test');
    const other = await createUser(acme, 'other@acme.test');
    const version = await storedVersion(harness.db, 'users', other.id);
    expectScimError(
      await acme.put(`/Users/${other.id}`, {
        schemas: [USER_SCHEMA],
        userName: 'HOLDER@acme.test',
      }),
      409,
      'uniqueness',
    );
    expect(await storedVersion(harness.db, 'users', other.id)).toBe(version);
  });
});

describe('invalid values', () => {
  it('refuses an empty userName with 400 invalidValue', async () => {
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', { schemas: [USER_SCHEMA], userName: '' }),
        400,
        'invalidValue',
      );
      expectScimError(
        await acme.post('/Users', { schemas: [USER_SCHEMA], userName: '   ' }),
        400,
        'invalidValue',
      );
    });
  });

  it('refuses a missing userName (required, RFC 7643 §4.1.1) with 400 invalidValue', async () => {
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', { schemas: [USER_SCHEMA], displayName: 'No name' }),
        400,
        'invalidValue',
      );
    });
  });

  it('refuses a value of the wrong type with 400 invalidValue, on POST and PUT', async () => {
    const user = await createUser(acme, 'typed@acme.test');
    const version = await storedVersion(harness.db, 'users', user.id);
    await writesNothing(async () => {
      for (const wrong of [{ active: 'maybe' }, { emails: 'a@b.test' }, { name: 'Ann Lee' }]) {
        const body = { schemas: [USER_SCHEMA], userName: 'typed@acme.test', ...wrong };
        expectScimError(await acme.post('/Users', body), 400, 'invalidValue');
        expectScimError(await acme.put(`/Users/${user.id}`, body), 400, 'invalidValue');
      }
    });
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(version);
  });

  it('refuses a NUL character (which PostgreSQL cannot store) with 400, not 500', async () => {
    const user = await createUser(acme, 'nul-target@acme.test');
    const version = await storedVersion(harness.db, 'users', user.id);
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', { schemas: [USER_SCHEMA], userName: 'nul\u0000@acme.test' }),
        400,
      );
      expectScimError(
        await acme.post('/Users', {
          schemas: [USER_SCHEMA],
          userName: 'nul-title@acme.test',
          title: 'a\u0000b',
        }),
        400,
      );
      expectScimError(
        await acme.patch(
          `/Users/${user.id}`,
          patchOp({ op: 'replace', path: 'displayName', value: 'x\u0000' }),
        ),
        400,
      );
      expectScimError(
        await acme.post('/Groups', {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'g\u0000',
        }),
        400,
      );
    });
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(version);
  });

  it("refuses a body whose schemas are not the resource type's with 400", async () => {
    await writesNothing(async () => {
      expectScimError(
        await acme.post('/Users', { schemas: ['urn:example:nope'], userName: 'schemas@acme.test' }),
        400,
      );
    });
  });

  it('refuses a filter on an unknown attribute, or a malformed one, with 400 invalidFilter', async () => {
    expectScimError(
      await acme.get(`/Users?filter=${encodeURIComponent('shoeSize eq "42"')}`),
      400,
      'invalidFilter',
    );
    expectScimError(
      await acme.get(`/Users?filter=${encodeURIComponent('userName eq')}`),
      400,
      'invalidFilter',
    );
    expectScimError(
      await acme.get(`/Users?filter=${encodeURIComponent('userName zz "a"')}`),
      400,
      'invalidFilter',
    );
    expectScimError(
      await acme.post('/Users/.search', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'shoeSize eq "42"',
      }),
      400,
      'invalidFilter',
    );
  });

  it('refuses a PATCH with an unknown path: 400 invalidPath, nothing written', async () => {
    const user = await createUser(acme, 'patch-path@acme.test');
    const version = await storedVersion(harness.db, 'users', user.id);
    expectScimError(
      await acme.patch(
        `/Users/${user.id}`,
        patchOp({ op: 'replace', path: 'shoeSize', value: '42' }),
      ),
      400,
      'invalidPath',
    );
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(version);
  });

  it('refuses a PATCH with an unknown op or no Operations with 400', async () => {
    const user = await createUser(acme, 'patch-op@acme.test');
    const version = await storedVersion(harness.db, 'users', user.id);
    expectScimError(
      await acme.patch(`/Users/${user.id}`, patchOp({ op: 'explode', path: 'displayName' })),
      400,
    );
    expectScimError(
      await acme.patch(`/Users/${user.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      }),
      400,
    );
    expect(await storedVersion(harness.db, 'users', user.id)).toBe(version);
  });
});

describe('a failure of the server itself', () => {
  it('answers 500 (or 503) in SCIM format without leaking internals', async () => {
    const broken = await harness.tenant('broken');
    const secondHarness = await startScim();
    const client = await secondHarness.tenant('fragile');
    await secondHarness.database.close();
    const res = await client.get('/Users');
    expect([500, 503]).toContain(res.status);
    expectScimError(res, res.status);
    expect(res.body.detail).not.toMatch(
      /pglite|pool|sql|select|stack|\bat \w+ \(|node_modules|Error:/i,
    );
    expect(res.text).not.toMatch(/node_modules|\.ts:\d+|\.js:\d+/);
    // The healthy server is unaffected.
    expect((await broken.get('/Users')).status).toBe(200);
  });
});
