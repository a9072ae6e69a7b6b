import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../clock.js';
import type { ChangeContext } from '../context/actor.js';
import { deactivateUser } from '../provisioning/lifecycle.js';
import { createUserFromScim } from '../provisioning/provision-from-scim.js';
import {
  createGroupFromScim,
  deleteGroupFromScim,
  updateGroupFromScim,
} from '../provisioning/provision-groups.js';
import { latestChangeSeq } from '../changes/outbox.js';
import { readEvents } from '../events/event.js';
import { signInWithSaml } from '../saml/saml-sign-in.js';
import { createTenant } from '../tenants/tenant.repository.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-db.js';
import { encodeChangeCursor } from './change-feed.js';
import { openDirectory, type Directory, type DirectoryChange } from './index.js';

const scim: ChangeContext = { actor: { type: 'scim_token', id: 'tok' } };
const clock = fixedClock('2026-06-01T00:00:00Z');
/** Far longer than any test waits: a change that arrives came by NOTIFY, not by the poll. */
const NO_POLL = { pollIntervalMs: 600_000 };
/** How long a test waits for a notified change before it calls it lost (well under NO_POLL). */
const DELIVERY_LIMIT_MS = 10_000;

let database: TestDatabase;
let directory: Directory;
let n = 0;

/** On PostgreSQL the handle is opened from a URL, as another app would; on PGlite in process. */
function openTestDirectory(tenant?: string): Promise<Directory> {
  const where =
    database.target.kind === 'postgres'
      ? { databaseUrl: database.target.url }
      : { database: database };
  return openDirectory({ ...where, ...(tenant !== undefined ? { tenant } : {}) });
}

beforeAll(async () => {
  database = await createTestDatabase();
  directory = await openTestDirectory();
});
afterAll(async () => {
  await directory.close();
  await database.close();
});

async function newTenant() {
  n += 1;
  const slug = `feed-${n}`;
  const tenant = await createTenant(database.db, slug, scim);
  return { id: tenant.id, slug };
}

async function createUsers(tenantId: string, count: number, prefix = 'u'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { user } = await createUserFromScim(
      database.db,
      tenantId,
      { userName: `${prefix}${i}@example.com` },
      scim,
      clock,
    );
    ids.push(user.id);
  }
  return ids;
}

/** The next change, or a failure if none comes within `ms`. */
async function nextWithin(
  feed: AsyncIterator<DirectoryChange>,
  ms = DELIVERY_LIMIT_MS,
): Promise<IteratorResult<DirectoryChange>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      feed.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no change within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function take(feed: AsyncIterator<DirectoryChange>, count: number) {
  const changes: DirectoryChange[] = [];
  for (let i = 0; i < count; i++) {
    const next = await nextWithin(feed);
    if (next.done) break;
    changes.push(next.value);
  }
  return changes;
}

describe('the change feed', () => {
  it('yields a tenant’s changes in commit order, each with its own cursor', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const [ada, bob] = await createUsers(tenant.id, 2);
    await createUsers(other.id, 3, 'other');
    await deactivateUser(database.db, tenant.id, ada ?? '', scim, clock);
    const group = await createGroupFromScim(
      database.db,
      tenant.id,
      { displayName: 'Team' },
      [bob ?? ''],
      scim,
      clock,
    );

    const controller = new AbortController();
    const changes: DirectoryChange[] = [];
    for await (const change of directory.changes({
      tenant: tenant.slug,
      signal: controller.signal,
    })) {
      changes.push(change);
      if (changes.length === 4) controller.abort();
    }
    expect(changes.map((c) => [c.seq, c.kind, c.entity])).toEqual([
      [1, 'user.created', { type: 'user', id: ada }],
      [2, 'user.created', { type: 'user', id: bob }],
      [3, 'user.deactivated', { type: 'user', id: ada }],
      [4, 'group.created', { type: 'group', id: group.id }],
    ]);
    expect(changes.every((c) => c.tenant === tenant.slug)).toBe(true);
    expect(changes[2]?.payload).toMatchObject({ state: 'inactive', managedBy: 'scim' });
    expect(changes[0]?.occurredAt).toBeInstanceOf(Date);
    expect(new Set(changes.map((c) => c.cursor)).size).toBe(4);
  });

  it('resumes after a cursor: nothing lost, nothing repeated', async () => {
    const tenant = await newTenant();
    const ids = await createUsers(tenant.id, 6);

    const first = directory.changes({ tenant: tenant.slug, ...NO_POLL });
    const handled = await take(first, 3);
    await first.return(undefined); // the consumer stops (a crash, a deploy)
    const saved = handled.at(-1)?.cursor ?? '';

    ids.push(...(await createUsers(tenant.id, 2, 'later'))); // written while nobody reads
    const resumed = directory.changes({ since: saved, ...NO_POLL }); // the cursor names the tenant
    const rest = await take(resumed, 5);
    await resumed.return(undefined);

    expect([...handled, ...rest].map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...handled, ...rest].map((c) => c.entity.id)).toEqual(ids);
  });

  it('starts after the head to see only what comes next', async () => {
    const tenant = await newTenant();
    await createUsers(tenant.id, 3);
    const head = await directory.head({ tenant: tenant.slug });
    const feed = directory.changes({ since: head, ...NO_POLL });
    const pending = nextWithin(feed);
    const [fresh] = await createUsers(tenant.id, 1, 'fresh');
    const next = await pending;
    expect(next.value).toMatchObject({ seq: 4, entity: { id: fresh } });
    await feed.return(undefined);
  });

  it('is woken by NOTIFY at commit, without waiting for the poll', async () => {
    const tenant = await newTenant();
    const feed = directory.changes({ tenant: tenant.slug, ...NO_POLL });
    // The feed reads an empty outbox and then waits: only a notification can wake it in time.
    const pending = nextWithin(feed);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [ada] = await createUsers(tenant.id, 1);
    expect((await pending).value).toMatchObject({ kind: 'user.created', entity: { id: ada } });
    // And again, for a change written after the feed went back to waiting.
    const again = nextWithin(feed);
    await deactivateUser(database.db, tenant.id, ada ?? '', scim, clock);
    expect((await again).value).toMatchObject({ kind: 'user.deactivated', seq: 2 });
    await feed.return(undefined);
  });

  it('reads no more than one batch ahead of its consumer (back-pressure)', async () => {
    const tenant = await newTenant();
    await createUsers(tenant.id, 12);
    const controller = new AbortController();
    const feed = directory.changes({
      tenant: tenant.slug,
      batchSize: 5,
      signal: controller.signal,
      ...NO_POLL,
    });
    expect((await nextWithin(feed)).value?.seq).toBe(1);
    // Take the outbox away under the feed: only what it already read can still come out.
    await database.db.deleteFrom('change_outbox').where('tenant_id', '=', tenant.id).execute();
    const rest = await take(feed, 4);
    expect(rest.map((c) => c.seq)).toEqual([2, 3, 4, 5]);
    // The next read finds nothing: the feed waits instead of yielding rows 6 to 12.
    const waiting = feed.next();
    const outcome = await Promise.race([
      waiting.then(() => 'yielded'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 300)),
    ]);
    expect(outcome).toBe('waiting');
    // A pending next() holds the generator: the signal (or close()) is what ends a waiting feed.
    controller.abort();
    expect((await waiting).done).toBe(true);
  });

  it('reads full batches back to back, and keeps the order across batches', async () => {
    const tenant = await newTenant();
    await createUsers(tenant.id, 7);
    const feed = directory.changes({ tenant: tenant.slug, batchSize: 2, ...NO_POLL });
    expect((await take(feed, 7)).map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await feed.return(undefined);
  });

  it('ends the loop without an error when its signal aborts while it waits', async () => {
    const tenant = await newTenant();
    await createUsers(tenant.id, 1);
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const change of directory.changes({
        tenant: tenant.slug,
        signal: controller.signal,
        ...NO_POLL,
      }))
        seen.push(change.seq);
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await loop;
    expect(seen).toEqual([1]);
  });

  it('ends every feed, waiting or not, when the directory closes', async () => {
    const tenant = await newTenant();
    await createUsers(tenant.id, 2);
    const own = await openTestDirectory(tenant.slug);
    const waiting = own.changes(NO_POLL);
    const idle = own.changes(NO_POLL);
    await take(waiting, 2);
    const pending = waiting.next();
    expect((await nextWithin(idle)).value?.seq).toBe(1);
    await own.close();
    expect((await pending).done).toBe(true);
    expect((await idle.next()).done).toBe(true);
    expect(() => own.changes()).toThrow(/closed/);
    await own.close(); // twice is fine
  });

  it('gives every event the id and type readEvents gives it, in the same order', async () => {
    const tenant = await newTenant();
    const [ada, bob] = await createUsers(tenant.id, 2);
    const { id: idpId } = await database.db
      .insertInto('saml_idps')
      .values({
        tenant_id: tenant.id,
        name: 'idp',
        entity_id: `https://idp.example/${tenant.slug}`,
        sso_url: 'https://idp.example/sso',
        signing_certificates: ['x'],
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const idp: ChangeContext = { actor: { type: 'idp', id: idpId } };
    const signedIn = await signInWithSaml(
      database.db,
      tenant.id,
      idpId,
      { nameId: 'jit@example.com', groups: ['Crew'] },
      idp,
      clock,
    );
    if (signedIn.outcome !== 'signed_in') throw new Error('expected a sign-in');
    await signInWithSaml(database.db, tenant.id, idpId, { nameId: 'jit@example.com' }, idp, clock);
    const group = await createGroupFromScim(
      database.db,
      tenant.id,
      { displayName: 'Team' },
      [ada ?? '', bob ?? ''],
      scim,
      clock,
    );
    await updateGroupFromScim(
      database.db,
      tenant.id,
      group.id,
      { members: { remove: [bob ?? ''], add: [signedIn.user.id] } },
      scim,
      clock,
    );
    await deactivateUser(database.db, tenant.id, signedIn.user.id, scim, clock); // ends 2 sessions
    await deleteGroupFromScim(database.db, tenant.id, group.id, scim);

    const { events } = await readEvents(database.db, tenant.id, { afterSeq: 0, limit: 1_000 });
    const feed = directory.changes({ tenant: tenant.slug, ...NO_POLL });
    const changes = await take(feed, await latestChangeSeq(database.db, tenant.id));
    await feed.return(undefined);
    // Every change but a plain sign-in (user.signed_in) is an event.
    expect(changes.filter((c) => c.eventId === undefined).map((c) => c.kind)).toEqual([
      'user.signed_in',
    ]);
    const asEvents = changes.flatMap((c) => (c.eventId ? [[c.eventId, c.eventType, c.seq]] : []));
    expect(asEvents).toEqual(events.map((e) => [e.id, e.type, e.seq]));
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.created',
      'user.created',
      'group.created',
      'group.members_added',
      'group.created',
      'group.members_added',
      'group.members_removed',
      'group.members_added',
      'session.ended',
      'session.ended',
      'user.deactivated',
      'group.deleted',
    ]);
    const ended = changes.filter((c) => c.kind === 'session.ended');
    expect(ended.map((c) => c.entity.type)).toEqual(['session', 'session']);
    expect(new Set(ended.map((c) => c.entity.id)).size).toBe(2);
  });

  it('refuses a cursor it did not issue, one of another tenant, and bad settings', async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    expect(() => directory.changes({ since: 'garbage' })).toThrow(/cursor/);
    expect(() => directory.changes({ tenant: tenant.slug, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => directory.changes({ tenant: tenant.slug, pollIntervalMs: 1 })).toThrow(
      /pollIntervalMs/,
    );
    const foreign = directory.changes({
      tenant: tenant.slug,
      since: encodeChangeCursor(other.id, 0),
    });
    await expect(foreign.next()).rejects.toMatchObject({ code: 'Invalid' });
    const unknown = directory.changes({
      since: encodeChangeCursor('00000000-0000-4000-8000-000000000000', 0),
    });
    await expect(unknown.next()).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('keeps per-tenant order with writers in parallel: every seq once, none skipped', async () => {
    const tenant = await newTenant();
    const head = await directory.head({ tenant: tenant.slug });
    const feed = directory.changes({ since: head, ...NO_POLL });
    const writers = Array.from({ length: 20 }, (_, i) =>
      createUserFromScim(database.db, tenant.id, { userName: `p${i}@example.com` }, scim, clock),
    );
    const [changes] = await Promise.all([take(feed, 20), Promise.all(writers)]);
    expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await feed.return(undefined);
  });
});
