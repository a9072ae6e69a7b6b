// No input gives the SSO app a 5xx: a path segment that is not percent-encoded UTF-8 is a 400,
// and an identity too long to index is refused at the ACS with a page, nothing written.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INDEXED_TEXT_LENGTH } from '@roster/core';
import {
  answer,
  Browser,
  createFixture,
  directoryCounts,
  type Fixture,
} from './support/sso-fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture();
});
afterAll(() => f.database.close());

/** Random base64: text that does not compress, as an index entry would have to hold it. */
const incompressible = (length: number) => randomBytes(length).toString('base64').slice(0, length);

describe('bad percent-encoding in a path segment', () => {
  it.each([
    '/saml/%FF/',
    '/saml/%FF/whoami',
    '/saml/acme/%FF/login',
    '/saml/acme/%E0%A4%A/metadata',
    '/saml/%C0%AF/logout',
  ])('%s is 400, with no credentials at all', async (path) => {
    for (const accept of ['text/html', 'application/json']) {
      const res = await request(f.app()).get(path).set('accept', accept);
      expect(res.status, res.text).toBe(400);
      expect(res.text).toContain('percent-encoded');
      expect(res.text).not.toMatch(/URIError|Failed to decode|\bat .+\.js:\d+/);
    }
  });
});

describe('an identity too long to index, during JIT creation', () => {
  it.each([
    ['a NameID of 4,000', () => ({ nameId: incompressible(4000) })],
    [
      'an email of 800',
      () => ({
        nameId: 'long-mail@example.com',
        attributes: { email: `${incompressible(800).replace(/[^A-Za-z0-9]/g, 'x')}@example.com` },
      }),
    ],
  ])('%s random characters gets a refusal page and writes nothing', async (_what, make) => {
    const browser = new Browser(f.app());
    const { request: authn } = await browser.startLogin(f.okta.idp, f.okta.sp);
    const { nameId, ...extra } = make();
    const { xml } = await f.okta.idp.response(answer(f.okta.sp, authn.id, nameId, extra));
    const before = await directoryCounts(f.database);
    const res = await browser.postResponse(f.okta.sp, xml);
    expect(res.status, res.text.slice(0, 500)).toBe(400);
    expect(res.headers['content-type']).toMatch(/html/);
    expect(res.text).toContain(String(MAX_INDEXED_TEXT_LENGTH));
    expect(res.text).toContain(String(res.headers['x-request-id']));
    expect(res.text).not.toMatch(/index row|btree|\bat .+\.js:\d+/i);
    expect(await directoryCounts(f.database)).toEqual(before);
    expect((await browser.whoami()).status).toBe(401);
  });
});
