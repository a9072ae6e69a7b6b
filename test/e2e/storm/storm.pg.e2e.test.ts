// Journey 5: a storm. Two instances of the SCIM, SSO and admin apps, the second of each
// with its own connection pool on one PostgreSQL database (as two processes behind a load balancer would
// be), and 50 people pushed, patched, grouped and signed in at the same time, every request sent
// to a random instance. Afterwards: no 5xx, exactly 50 users, every SAML link and session
// pointing at the right person, every group member a real user.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, openDatabase, type RosterDatabase } from '@roster/core';
import { createAdminApp } from '@roster/admin';
import { createLifecycle } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { createSsoApp } from '@roster/sso';
import { toPostBinding } from '@roster/sso/testing';
import {
  ADMIN_TOKEN,
  Browser,
  directoryOf,
  GROUP_SCHEMA,
  PATCH_SCHEMA,
  ScimClient,
  scimUser,
  startJourneyStack,
  type HttpAnswer,
  type JourneyStack,
  type JourneyTenant,
} from '../../helpers/journey-stack.js';

const PEOPLE = 50;
const CONCURRENCY = 10;
const SLUG = 'storm';

/** An app on 127.0.0.1 (a second instance next to the one the journey stack started). */
async function listen(app: Express): Promise<{ url: string; server: Server }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let stack: JourneyStack;
let tenant: JourneyTenant;
let secondPool: RosterDatabase;
const secondServers: Server[] = [];
/** The SCIM endpoints of both instances, and the SSO origins of both instances. */
let scimInstances: ScimClient[];
let ssoOrigins: string[];
let adminOrigins: string[];

beforeAll(async () => {
  stack = await startJourneyStack();
  tenant = await stack.tenant(SLUG);
  // The second instance of each app: its own pool on the same database, the same clock, and the
  // SSO app the same public base URL as the first (the load balancer's), so ACS and audience match.
  secondPool = await openDatabase(stack.database.target);
  const logger = createLogger({ level: 'silent' });
  const scim2 = await listen(
    createScimApp({
      database: secondPool,
      logger,
      clock: stack.clock,
      lifecycle: createLifecycle(),
      baseUrl: stack.scimUrl,
    }),
  );
  const sso2 = await listen(
    createSsoApp({
      database: secondPool,
      logger,
      clock: stack.clock,
      lifecycle: createLifecycle(),
      baseUrl: stack.ssoUrl,
    }),
  );
  const admin2 = await listen(
    createAdminApp({
      database: secondPool,
      logger,
      clock: stack.clock,
      lifecycle: createLifecycle(),
      adminToken: ADMIN_TOKEN,
      scimBaseUrl: stack.scimUrl,
      ssoBaseUrl: stack.ssoUrl,
    }),
  );
  secondServers.push(scim2.server, sso2.server, admin2.server);
  adminOrigins = [stack.adminUrl, admin2.url];
  scimInstances = [tenant.scim, new ScimClient(`${scim2.url}/scim/v2/${SLUG}`, tenant.scimToken)];
  ssoOrigins = [stack.ssoUrl, sso2.url];
});

afterAll(async () => {
  for (const server of secondServers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await secondPool?.close();
  await stack?.close();
});

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Every answer of the storm, to look for 5xx afterwards. */
const answers: { what: string; status: number; text: string }[] = [];
function seen(what: string, answer: HttpAnswer): HttpAnswer {
  answers.push({ what, status: answer.status, text: answer.text.slice(0, 300) });
  return answer;
}

/** GET on the admin API of one instance (the operator's `roster` CLI). */
async function adminGet(origin: string, path: string): Promise<HttpAnswer> {
  const res = await fetch(`${origin}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

/** Every userName the admin API of `origin` lists for the tenant, page after page. */
async function adminUserNames(origin: string): Promise<string[]> {
  const names: string[] = [];
  let after: string | undefined;
  do {
    const page = await adminGet(
      origin,
      `/v1/tenants/${SLUG}/users?limit=20${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    expect(page.status, page.text).toBe(200);
    for (const user of page.body.users as { userName: string }[]) names.push(user.userName);
    after = page.body.next as string | undefined;
  } while (after);
  return names;
}

/** A browser pointed at a random SSO instance (same-path URLs, the shared base swapped out). */
function onRandomSso(url: string): string {
  return url.replace(stack.ssoUrl, pick(ssoOrigins));
}

describe('journey 5: a storm on two instances of each app', () => {
  it('ends with exactly 50 consistent users and no 5xx', async () => {
    const group = await tenant.scim.post('/Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Storm',
    });
    expect(group.status).toBe(201);
    const groupId = String(group.body.id);

    const people = Array.from({ length: PEOPLE }, (_, i) => `person${i}@storm.example`);
    const signedIn = new Map<string, Browser>();
    const expectedDisplayName = new Map<string, string>();

    /** The user's id as SCIM sees it (Entra's filtered GET), on a random instance. */
    async function idOf(userName: string): Promise<string | undefined> {
      const found = seen(
        `GET filter ${userName}`,
        await pick(scimInstances).findByUserName(userName),
      );
      expect(found.status, found.text).toBe(200);
      return found.body.totalResults === 1 ? String(found.body.Resources[0].id) : undefined;
    }

    async function create(userName: string, index: number): Promise<void> {
      const push = async (client: ScimClient) => {
        const entraStyle = Math.random() < 0.5;
        if (entraStyle) {
          const existing = await idOf(userName);
          if (existing !== undefined) {
            // Entra found the person (a JIT user or a racing create): it patches instead.
            const patched = seen(
              `PATCH adopt ${userName}`,
              await client.patch(`/Users/${existing}`, {
                schemas: [PATCH_SCHEMA],
                Operations: [{ op: 'replace', path: 'externalId', value: `ext-${userName}` }],
              }),
            );
            expect(patched.status, patched.text).toBe(200);
            return;
          }
        }
        const created = seen(`POST ${userName}`, await client.post('/Users', scimUser(userName)));
        // 409 only when a racing request made the same person first (checked below: it exists).
        expect([200, 201, 409], created.text).toContain(created.status);
      };
      // Every fifth person is pushed by both instances at once: the race the unique indexes solve.
      if (index % 5 === 0) await Promise.all(scimInstances.map(push));
      else await push(pick(scimInstances));
      expect(await idOf(userName), `${userName} exists after its create`).toBeDefined();
    }

    async function patchDisplayName(userName: string): Promise<void> {
      const id = await idOf(userName);
      if (id === undefined) throw new Error(`${userName} has no id to patch`);
      const displayName = `Storm ${userName}`;
      const patched = seen(
        `PATCH ${userName}`,
        await pick(scimInstances).patch(`/Users/${id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'displayName', value: displayName }],
        }),
      );
      expect(patched.status, patched.text).toBe(200);
      expectedDisplayName.set(userName, displayName);
    }

    async function joinGroup(userName: string): Promise<void> {
      const id = await idOf(userName);
      if (id === undefined) throw new Error(`${userName} has no id to add to the group`);
      const added = seen(
        `PATCH group +${userName}`,
        await pick(scimInstances).patch(`/Groups/${groupId}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
        }),
      );
      expect([200, 204], added.text).toContain(added.status);
    }

    async function signIn(userName: string): Promise<void> {
      const browser = new Browser(pick(ssoOrigins));
      const login = seen(`login ${userName}`, await browser.get(onRandomSso(tenant.sp.loginUrl)));
      expect(login.status, login.text).toBe(302);
      const request = tenant.idp.readAuthnRequest(login.headers.get('location') ?? '');
      const { xml } = await tenant.idp.response({
        acsUrl: tenant.sp.acsUrl,
        audience: tenant.sp.entityId,
        inResponseTo: request.id,
        nameId: userName,
        sign: 'assertion',
        attributes: { 'http://schemas.microsoft.com/identity/claims/displayname': userName },
      });
      const acs = seen(
        `ACS ${userName}`,
        await browser.post(
          onRandomSso(tenant.sp.acsUrl),
          { SAMLResponse: toPostBinding(xml) },
          'text/html',
          tenant.idp.ssoUrl,
        ),
      );
      expect(acs.status, acs.text).toBe(303);
      signedIn.set(userName, browser);
    }

    await inParallel(
      people.map((userName, index) => ({ userName, index })),
      CONCURRENCY,
      async ({ userName, index }) => {
        // A random interleaving: the sign-in anywhere (before the create: JIT; after: a link),
        // the patch and the group change after the create, in either order.
        const afterCreate = shuffle([() => patchDisplayName(userName), () => joinGroup(userName)]);
        const steps = [() => create(userName, index), ...afterCreate];
        steps.splice(Math.floor(Math.random() * (steps.length + 1)), 0, () => signIn(userName));
        // An operator looking at the directory meanwhile, on either admin instance.
        steps.splice(Math.floor(Math.random() * (steps.length + 1)), 0, async () => {
          const listed = seen(
            'admin users',
            await adminGet(pick(adminOrigins), `/v1/tenants/${SLUG}/users`),
          );
          expect(listed.status, listed.text).toBe(200);
        });
        // Every third person signs in at the same moment as its create, not before nor after.
        if (index % 3 === 0) {
          await Promise.all([signIn(userName), create(userName, index)]);
          for (const step of afterCreate) await step();
        } else {
          for (const step of steps) await step();
        }
      },
    );

    // No 5xx anywhere.
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);

    const directory = await directoryOf(stack.database, tenant.tenant.id);
    // Exactly the 50 people, once each.
    expect(directory.users.map((u) => u.user_name).sort()).toEqual([...people].sort());
    const userNameById = new Map(directory.users.map((u) => [u.id, u.user_name]));

    // Both admin instances list the same 50 people.
    for (const origin of adminOrigins)
      expect((await adminUserNames(origin)).sort()).toEqual([...people].sort());

    // One link per person and IdP, to the user whose userName is the NameID.
    expect(directory.links).toHaveLength(PEOPLE);
    for (const link of directory.links) {
      expect(link.idp_id).toBe(tenant.idpConfig.id);
      expect(userNameById.get(link.user_id)).toBe(link.name_id);
    }
    expect(new Set(directory.links.map((l) => `${l.idp_id} ${l.name_id}`)).size).toBe(PEOPLE);

    // Every session belongs to an existing user; each person's browser is that person.
    for (const session of directory.sessions) expect(userNameById.has(session.user_id)).toBe(true);
    expect(signedIn.size).toBe(PEOPLE);
    for (const [userName, browser] of signedIn) {
      const me = await browser.whoami(SLUG);
      expect(me.status, me.text).toBe(200);
      expect(me.body.user.userName).toBe(userName);
      const own = directory.sessions.filter((s) => s.user_id === me.body.user.id);
      expect(own.length).toBeGreaterThanOrEqual(1);
    }

    // Every patch is visible, on either instance.
    for (const [userName, displayName] of expectedDisplayName) {
      const found = await pick(scimInstances).findByUserName(userName);
      expect(found.body.Resources[0].displayName).toBe(displayName);
    }

    // The group holds each person exactly once, and only real users.
    const members = await stack.database.db
      .selectFrom('group_members')
      .select(['member_user_id', 'member_group_id'])
      .where('tenant_id', '=', tenant.tenant.id)
      .where('group_id', '=', groupId)
      .execute();
    expect(members).toHaveLength(PEOPLE);
    for (const member of members) {
      expect(member.member_group_id).toBeNull();
      expect(userNameById.has(String(member.member_user_id))).toBe(true);
    }
    expect(new Set(members.map((m) => m.member_user_id)).size).toBe(PEOPLE);
    const groupSeen = await pick(scimInstances).get(`/Groups/${groupId}`);
    expect(groupSeen.status).toBe(200);
    expect(groupSeen.body.members).toHaveLength(PEOPLE);
  }, 180_000);
});
