// lists (RFC 7644 §3.4.2, §3.4.3) and RFC 9865 cursors on the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '@roster/core';
import {
  createGroup,
  createUser,
  expectScimError,
  LIST_SCHEMA,
  searchRequest,
  startScim,
  USER_SCHEMA,
  idsOf,
  resourcesOf,
  type Body,
  type ScimHarness,
  type TenantClient,
} from './setup.js';

const USERS = 23;
const GROUPS = 4;
const PAGE = 5;

let harness: ScimHarness;
let acme: TenantClient;
let userIds: string[];
let userNames: string[];
let groupIds: string[];
let maxResults: number;

const name = (i: number) => `list-user-${String(i).padStart(2, '0')}@acme.test`;

beforeAll(async () => {
  harness = await startScim();
  acme = await harness.tenant('acme');
  userIds = [];
  userNames = [];
  // Created in a scrambled order, all at the same instant (a fixed clock): the order of pages
  // must still be total and stable.
  for (let k = 0; k < USERS; k++) {
    const i = (k * 7) % USERS;
    const user = await createUser(acme, name(i), {
      displayName: `User ${i}`,
      emails: [{ value: name(i), type: 'work', primary: true }],
      title: i % 2 === 0 ? 'even' : 'odd',
    });
    userIds.push(user.id);
    userNames.push(name(i));
  }
  groupIds = [];
  for (let g = 0; g < GROUPS; g++)
    groupIds.push((await createGroup(acme, `List group ${g}`, userIds.slice(g, g + 1))).id);
  maxResults = (await acme.get('/ServiceProviderConfig')).body.filter.maxResults;
});
afterAll(() => harness.close());

function expectListResponse(body: Body, totalResults: number, onPage: number) {
  expect(body.schemas).toEqual([LIST_SCHEMA]);
  expect(body.totalResults).toBe(totalResults);
  expect(body.itemsPerPage).toBe(onPage);
  expect((body.Resources ?? []).length).toBe(onPage);
}

describe('index paging (RFC 7644 §3.4.2.4)', () => {
  it('pages with startIndex/count in a stable order, exact itemsPerPage and totalResults', async () => {
    const seen: string[] = [];
    for (let start = 1; start <= USERS; start += PAGE) {
      const res = await acme.get(`/Users?startIndex=${start}&count=${PAGE}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      expectListResponse(res.body, USERS, Math.min(PAGE, USERS - start + 1));
      expect(res.body.startIndex).toBe(start);
      for (const resource of resourcesOf(res.body)) {
        expect(resource.meta.resourceType).toBe('User');
        expect(resource.meta.location).toBe(`${acme.baseUrl}/Users/${resource.id}`);
      }
      // The same page again: the same users in the same order.
      expect(idsOf((await acme.get(`/Users?startIndex=${start}&count=${PAGE}`)).body)).toEqual(
        idsOf(res.body),
      );
      seen.push(...idsOf(res.body));
    }
    expect(seen).toHaveLength(USERS);
    expect(new Set(seen)).toEqual(new Set(userIds));
  });

  it('answers a start beyond the end with an empty page and the true total', async () => {
    const res = await acme.get(`/Users?startIndex=${USERS + 10}&count=${PAGE}`);
    expect(res.status).toBe(200);
    expectListResponse(res.body, USERS, 0);
  });

  it('treats startIndex < 1 as 1 (RFC 7644 §3.4.2.4)', async () => {
    const res = await acme.get(`/Users?startIndex=0&count=${PAGE}`);
    expect(res.status).toBe(200);
    expect(res.body.startIndex).toBe(1);
    expect(idsOf(res.body)).toEqual(
      idsOf((await acme.get(`/Users?startIndex=1&count=${PAGE}`)).body),
    );
  });

  it('answers count=0 with totalResults only', async () => {
    const res = await acme.get('/Users?count=0');
    expect(res.status).toBe(200);
    expectListResponse(res.body, USERS, 0);
    const filtered = await acme.get(
      `/Users?count=0&filter=${encodeURIComponent('title eq "even"')}`,
    );
    expectListResponse(filtered.body, Math.ceil(USERS / 2), 0);
  });

  it('caps a count above filter.maxResults instead of failing', async () => {
    const res = await acme.get(`/Users?count=${maxResults + 1000}`);
    expect(res.status).toBe(200);
    expectListResponse(res.body, USERS, USERS);
  });

  it('caps count at filter.maxResults when there are more users than that', async () => {
    const big = await harness.tenant('big');
    const rows = Array.from({ length: maxResults + 5 }, (_, i) => {
      const userName = `bulk-${i}@big.test`;
      return {
        tenant_id: big.tenant.id,
        user_name: userName,
        user_name_key: identityKey(userName),
        source: 'scim' as const,
        managed_by: 'scim' as const,
        scim_resource: { schemas: [USER_SCHEMA], userName },
      };
    });
    for (let i = 0; i < rows.length; i += 500)
      await harness.db
        .insertInto('users')
        .values(rows.slice(i, i + 500))
        .execute();
    const res = await big.get(`/Users?count=${maxResults + 5}&attributes=userName`);
    expect(res.status).toBe(200);
    expectListResponse(res.body, maxResults + 5, maxResults);
    const rest = await big.get(
      `/Users?startIndex=${maxResults + 1}&count=${maxResults}&attributes=userName`,
    );
    expectListResponse(rest.body, maxResults + 5, 5);
    expect(new Set([...idsOf(res.body), ...idsOf(rest.body)]).size).toBe(maxResults + 5);
    // No count: the advertised defaultPageSize (RFC 9865 §4).
    const spc = (await big.get('/ServiceProviderConfig')).body;
    const unsized = await big.get('/Users?attributes=userName');
    expectListResponse(unsized.body, maxResults + 5, spc.pagination.defaultPageSize);
  });
});

describe('cursor paging (RFC 9865)', () => {
  it('walks every user once from cursor= to the page without nextCursor', async () => {
    const seen: string[] = [];
    let res = await acme.get(`/Users?cursor=&count=${PAGE}`);
    let pages = 0;
    for (;;) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.schemas).toEqual([LIST_SCHEMA]);
      expect(res.body.itemsPerPage).toBe(idsOf(res.body).length);
      if (res.body.totalResults !== undefined) expect(res.body.totalResults).toBe(USERS);
      seen.push(...idsOf(res.body));
      pages++;
      expect(pages).toBeLessThanOrEqual(Math.ceil(USERS / PAGE));
      if (res.body.nextCursor === undefined) break;
      expect(idsOf(res.body)).toHaveLength(PAGE);
      res = await acme.get(
        `/Users?cursor=${encodeURIComponent(res.body.nextCursor)}&count=${PAGE}`,
      );
    }
    expect(pages).toBe(Math.ceil(USERS / PAGE));
    expect(seen).toHaveLength(USERS);
    expect(new Set(seen)).toEqual(new Set(userIds));
  });

  it('walks a sorted and filtered list with cursors too', async () => {
    const seen: string[] = [];
    const query = `filter=${encodeURIComponent('title eq "odd"')}&sortBy=userName&sortOrder=descending&count=3`;
    let res = await acme.get(`/Users?${query}&cursor=`);
    for (;;) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...resourcesOf(res.body).map((u) => u.userName ?? ''));
      if (res.body.nextCursor === undefined) break;
      res = await acme.get(`/Users?${query}&cursor=${encodeURIComponent(res.body.nextCursor)}`);
    }
    const odd = userNames
      .filter((n) => Number(/(\d+)@/.exec(n)?.[1]) % 2 === 1)
      .sort()
      .reverse();
    expect(seen).toEqual(odd);
  });

  it('walks groups with cursors, one per page', async () => {
    const seen: string[] = [];
    let res = await acme.get('/Groups?cursor=&count=1&excludedAttributes=members');
    for (;;) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.itemsPerPage).toBe(1);
      seen.push(...idsOf(res.body));
      if (res.body.nextCursor === undefined) break;
      res = await acme.get(
        `/Groups?cursor=${encodeURIComponent(res.body.nextCursor)}&count=1&excludedAttributes=members`,
      );
    }
    expect(seen).toHaveLength(GROUPS);
    expect(new Set(seen)).toEqual(new Set(groupIds));
  });

  it('refuses a cursor it never issued: 400 invalidCursor', async () => {
    expectScimError(await acme.get('/Users?cursor=not-a-cursor&count=5'), 400, 'invalidCursor');
  });
});

describe('sorting (RFC 7644 §3.4.2.3)', () => {
  it('sorts by userName ascending and descending, across pages', async () => {
    const ascending = [...userNames].sort();
    const pageOne = await acme.get(`/Users?sortBy=userName&sortOrder=ascending&count=10`);
    const pageTwo = await acme.get(
      `/Users?sortBy=userName&sortOrder=ascending&startIndex=11&count=20`,
    );
    const names = [...resourcesOf(pageOne.body), ...resourcesOf(pageTwo.body)].map(
      (u) => u.userName,
    );
    expect(names).toEqual(ascending);
    const descending = await acme.get(`/Users?sortBy=userName&sortOrder=descending&count=100`);
    expect(resourcesOf(descending.body).map((u) => u.userName)).toEqual([...ascending].reverse());
    // sortOrder defaults to ascending
    const byDefault = await acme.get(`/Users?sortBy=userName&count=100`);
    expect(resourcesOf(byDefault.body).map((u) => u.userName)).toEqual(ascending);
  });

  it('sorts by a multi-valued attribute by its primary value (RFC 7644 §3.4.2.3)', async () => {
    // Every seeded user has one primary work email equal to its userName.
    const res = await acme.get('/Users?sortBy=emails&sortOrder=descending&count=100');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(resourcesOf(res.body).map((u) => u.userName)).toEqual([...userNames].sort().reverse());
  });

  it('refuses sorting by an attribute the schema does not have', async () => {
    const res = await acme.get('/Users?sortBy=shoeSize');
    expectScimError(res, 400);
  });
});

describe('attributes and excludedAttributes (RFC 7644 §3.4.2.5)', () => {
  it('returns only the asked attributes, id and schemas always', async () => {
    const res = await acme.get('/Users?attributes=userName&count=3');
    expect(res.status).toBe(200);
    for (const user of resourcesOf(res.body)) {
      expect(Object.keys(user).sort()).toEqual(expect.arrayContaining(['id', 'userName']));
      expect(user).not.toHaveProperty('emails');
      expect(user).not.toHaveProperty('displayName');
      expect(user).not.toHaveProperty('title');
    }
    const one = await acme.get(`/Users/${userIds[0]}?attributes=displayName,emails`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(userIds[0]);
    expect(one.body.displayName).toEqual(expect.any(String));
    expect(one.body.emails).toHaveLength(1);
    expect(one.body).not.toHaveProperty('userName');
  });

  it('leaves out excluded attributes', async () => {
    const res = await acme.get('/Users?excludedAttributes=emails,title&count=3');
    expect(res.status).toBe(200);
    for (const user of resourcesOf(res.body)) {
      expect(user.userName).toEqual(expect.any(String));
      expect(user.id).toEqual(expect.any(String));
      expect(user).not.toHaveProperty('emails');
      expect(user).not.toHaveProperty('title');
    }
  });
});

describe('filter (RFC 7644 §3.4.2.2)', () => {
  it('filters users by userName (case-insensitively), sw, and and/or', async () => {
    const eq = await acme.get(
      `/Users?filter=${encodeURIComponent(`userName eq "${name(3).toUpperCase()}"`)}`,
    );
    expect(eq.status).toBe(200);
    expectListResponse(eq.body, 1, 1);
    expect(eq.body.Resources[0].userName).toBe(name(3));
    const sw = await acme.get(`/Users?filter=${encodeURIComponent('userName sw "list-user-1"')}`);
    expectListResponse(sw.body, 10, 10);
    const both = await acme.get(
      `/Users?filter=${encodeURIComponent('userName sw "list-user-1" and title eq "even"')}`,
    );
    expectListResponse(both.body, 5, 5);
    const negated = await acme.get(
      `/Users?filter=${encodeURIComponent(`not (userName eq "${name(3)}")`)}&count=0`,
    );
    expectListResponse(negated.body, USERS - 1, 0);
    const present = await acme.get(`/Users?filter=${encodeURIComponent('title pr')}&count=0`);
    expectListResponse(present.body, USERS, 0);
    const email = await acme.get(
      `/Users?filter=${encodeURIComponent(`emails[value eq "${name(4)}"]`)}`,
    );
    expectListResponse(email.body, 1, 1);
  });
});

describe('POST .search (RFC 7644 §3.4.3)', () => {
  it('searches /Users with a SearchRequest body like a GET', async () => {
    const res = await acme.post(
      '/Users/.search',
      searchRequest({
        filter: 'userName sw "list-user-0"',
        sortBy: 'userName',
        sortOrder: 'descending',
        startIndex: 2,
        count: 3,
        attributes: ['userName'],
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expectListResponse(res.body, 10, 3);
    expect(res.body.startIndex).toBe(2);
    expect(resourcesOf(res.body).map((u) => u.userName)).toEqual([name(8), name(7), name(6)]);
    expect(res.body.Resources[0]).not.toHaveProperty('emails');
  });

  it('searches users then groups at the root', async () => {
    const all = await acme.post('/.search', searchRequest({ count: USERS + GROUPS }));
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expectListResponse(all.body, USERS + GROUPS, USERS + GROUPS);
    const types = resourcesOf(all.body).map((r) => r.meta.resourceType);
    expect(types).toEqual([...Array(USERS).fill('User'), ...Array(GROUPS).fill('Group')]);
    expect(new Set(idsOf(all.body))).toEqual(new Set([...userIds, ...groupIds]));

    // A page across the boundary: the last two users, then the first two groups.
    const across = await acme.post('/.search', searchRequest({ startIndex: USERS - 1, count: 4 }));
    expect(across.status).toBe(200);
    expectListResponse(across.body, USERS + GROUPS, 4);
    expect(resourcesOf(across.body).map((r) => r.meta.resourceType)).toEqual([
      'User',
      'User',
      'Group',
      'Group',
    ]);
    // Consecutive pages of the root list cover everything once.
    const seen: string[] = [];
    for (let start = 1; start <= USERS + GROUPS; start += PAGE) {
      const page = await acme.post('/.search', searchRequest({ startIndex: start, count: PAGE }));
      expect(page.body.itemsPerPage).toBe(Math.min(PAGE, USERS + GROUPS - start + 1));
      seen.push(...idsOf(page.body));
    }
    expect(seen).toHaveLength(USERS + GROUPS);
    expect(new Set(seen)).toEqual(new Set([...userIds, ...groupIds]));
  });

  it('filters at the root on an attribute both types have', async () => {
    const res = await acme.post(
      '/.search',
      searchRequest({ filter: 'displayName sw "List group"' }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectListResponse(res.body, GROUPS, GROUPS);
    const users = await acme.post(
      '/.search',
      searchRequest({ filter: 'userName eq "list-user-05@acme.test"' }),
    );
    expect(users.status, JSON.stringify(users.body)).toBe(200);
    expectListResponse(users.body, 1, 1);
    expect(users.body.Resources[0].meta.resourceType).toBe('User');
  });

  it('refuses a search body without the SearchRequest schema', async () => {
    expectScimError(await acme.post('/Users/.search', { filter: 'userName pr' }), 400);
  });
});
