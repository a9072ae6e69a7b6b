/**
 * The interoperability suite: each IdP's request sequences, taken from its public
 * documentation or observed traffic (every step names its source), replayed against the SCIM app;
 * each answer is checked against RFC 7644 and each sequence ends with a check of the stored state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entra } from './fixtures/entra.js';
import { google } from './fixtures/google.js';
import { jumpcloud } from './fixtures/jumpcloud.js';
import { okta } from './fixtures/okta.js';
import { onelogin } from './fixtures/onelogin.js';
import {
  createInteropEnv,
  readPath,
  runSequence,
  SCIM_SCHEMAS,
  substitute,
  type IdpFixture,
  type InteropEnv,
} from './runner.js';

const FIXTURES: readonly IdpFixture[] = [okta, entra, onelogin, jumpcloud, google];

let env: InteropEnv;
beforeAll(async () => {
  env = await createInteropEnv();
});
afterAll(() => env.close());

// The runner itself, on endpoints that do not depend on the Users/Groups routes.
const selfCheck: IdpFixture = {
  idp: 'runner self-check',
  slug: 'self',
  sources: {},
  headers: { 'User-Agent': 'interop-runner', 'Content-Type': 'application/scim+json' },
  sequences: [
    {
      name: 'discovery answers and a SCIM 404',
      steps: [
        {
          name: 'ServiceProviderConfig',
          source: 'RFC 7644 §4',
          request: { method: 'GET', path: '/ServiceProviderConfig' },
          expect: {
            status: 200,
            body: {
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
              meta: { location: '${base}/ServiceProviderConfig' },
            },
          },
          capture: { spcType: 'meta.resourceType' },
        },
        {
          name: 'unknown endpoint',
          source: 'RFC 7644 §3.12',
          request: { method: 'GET', path: '/Nope' },
          expect: { status: 404, body: { schemas: [SCIM_SCHEMAS.error], status: '404' } },
        },
      ],
      verify: (vars) => expect(vars.spcType).toBe('ServiceProviderConfig'),
    },
  ],
};

describe('interop runner', () => {
  it('substitutes variables, whole values kept as they are', () => {
    const vars = { id: 'abc', ids: ['a', 'b'] };
    expect(substitute({ p: '/Users/${id}', all: '${ids}', n: 1 }, vars)).toEqual({
      p: '/Users/abc',
      all: ['a', 'b'],
      n: 1,
    });
    expect(() => substitute('${missing}', vars)).toThrow(/before it is captured/);
  });

  it('reads paths with indexes and [*]', () => {
    const json = { Resources: [{ id: 'a' }, { id: 'b', members: [] }] };
    expect(readPath(json, 'Resources.1.id')).toBe('b');
    expect(readPath(json, 'Resources[*].id')).toEqual(['a', 'b']);
    expect(readPath(json, 'Resources[*].members')).toEqual([undefined, []]);
  });

  for (const sequence of selfCheck.sequences) {
    it(sequence.name, () => runSequence(env, selfCheck, sequence));
  }

  it('fails a step whose answer breaks its expectation', async () => {
    await expect(
      runSequence(env, selfCheck, {
        name: 'wrong expectation',
        steps: [
          {
            name: 'ServiceProviderConfig is not a 201',
            source: 'runner test',
            request: { method: 'GET', path: '/ServiceProviderConfig' },
            expect: { status: 201 },
          },
        ],
      }),
    ).rejects.toThrow(/unexpected status/);
  });
});

for (const fixture of FIXTURES) {
  describe(`${fixture.idp} interoperability`, () => {
    for (const sequence of fixture.sequences) {
      it(sequence.name, () => runSequence(env, fixture, sequence));
    }
  });
}
