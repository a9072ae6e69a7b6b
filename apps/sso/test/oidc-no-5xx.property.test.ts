// Property: whatever a client or a browser sends to a tenant's OpenID Provider (generated query
// strings, form bodies, headers and paths, hostile ones included), the real SSO app on a real
// database never answers 5xx and never shows an internal message. Seeded and bounded, so CI runs
// the same cases every time.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CALLBACK, startOidcStack, type OidcStack } from './support/oidc-flow.js';

/** Runs per property. OIDC_FUZZ_RUNS=1000 explores further. */
const RUNS = Number(process.env.OIDC_FUZZ_RUNS ?? 60);
/** OIDC_FUZZ_SEED=<n> explores other cases than CI's. */
const SEED = Number(process.env.OIDC_FUZZ_SEED ?? 20_261_203);

let stack: OidcStack;
beforeAll(async () => {
  stack = await startOidcStack();
});
afterAll(async () => {
  await stack?.close();
});

const INTERNAL_MESSAGE =
  /TypeError|ReferenceError|RangeError|SyntaxError|is not a function|Cannot read propert|undefined is not|\bat [\w.<>]+ \(|node_modules|SQLSTATE|syntax error at or near|violates|duplicate key|relation "|invalid input syntax|internal error|oops/i;

async function check(what: string, url: string, init: RequestInit = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(text, what).not.toMatch(INTERNAL_MESSAGE);
}

/** Values a parameter may take: the right ones, near misses, and junk. */
const value = () =>
  fc.oneof(
    fc.constantFrom(
      APP_CALLBACK,
      'openid',
      'openid email profile groups',
      'code',
      'S256',
      'plain',
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'none',
      'login',
      'consent',
      '',
      '%',
      '%FF',
      '\u0000',
      '{"a":1}',
      'a'.repeat(5000),
    ),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );

const PARAMS = [
  'client_id',
  'response_type',
  'scope',
  'redirect_uri',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'id_token_hint',
  'request',
  'request_uri',
  'response_mode',
  'claims',
  'ui_locales',
  'grant_type',
  'code',
  'code_verifier',
  'token',
  'token_type_hint',
  'post_logout_redirect_uri',
  'resource',
];

const params = () =>
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 12 })), value()), {
    maxLength: 10,
  });
const encode = (pairs: [string, string][]) => {
  const search = new URLSearchParams();
  for (const [k, v] of pairs) search.append(k, v);
  return search.toString();
};

describe('the OpenID Provider never answers 5xx', () => {
  it('to any authorization request', async () => {
    await fc.assert(
      fc.asyncProperty(params(), fc.boolean(), async (pairs, withClient) => {
        if (withClient) pairs.push(['client_id', stack.app.clientId]);
        await check('authorize', `${stack.issuer}/auth?${encode(pairs)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('to any form posted to the token, introspection and revocation endpoints', async () => {
    const auth = () =>
      fc.oneof(
        fc.constant(undefined),
        fc.constant(
          `Basic ${Buffer.from(`${stack.app.clientId}:${stack.clientSecret}`).toString('base64')}`,
        ),
        fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
        fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('token', 'token/introspection', 'token/revocation', 'session/end/confirm'),
        params(),
        auth(),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', ''),
        async (endpoint, pairs, authorization, type) => {
          const headers: Record<string, string> = {};
          if (authorization) headers.authorization = authorization.replace(/[^\t\x20-\x7e]/g, '');
          if (type) headers['content-type'] = type;
          await check(endpoint, `${stack.issuer}/${endpoint}`, {
            method: 'POST',
            headers,
            body:
              type === 'application/json'
                ? JSON.stringify(Object.fromEntries(pairs))
                : encode(pairs),
          });
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('to any path, bearer token or interaction id under the issuer', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'auth',
        'me',
        'jwks',
        'interaction',
        'session',
        'end',
        'connection',
        '.well-known',
        '%FF',
        '..',
        '',
      ),
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 5 }),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        async (segments, method, bearer) => {
          const headers: Record<string, string> = {};
          if (bearer !== undefined)
            headers.authorization = `Bearer ${bearer.replace(/[^\t\x20-\x7e]/g, '')}`;
          await check(`${method} ${segments.join('/')}`, `${stack.issuer}/${segments.join('/')}`, {
            method,
            headers,
          });
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
