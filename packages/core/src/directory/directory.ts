// A read handle on the directory for the organisation's other apps (README "Use Roster from your
// app"). It reuses the core's read paths; it never writes.
import { sql } from 'kysely';
import { CHANGES_CHANNEL, latestChangeSeq } from '../changes/outbox.js';
import { openDatabase, type RosterDatabase, type Unlisten } from '../db/create-db.js';
import type { Db } from '../db/transaction.js';
import { invalid, notFound } from '../errors.js';
import { clampLimit } from '../ids.js';
import { findGroup } from '../groups/group.repository.js';
import {
  groupsOfUsers,
  listGroupMembers,
  MAX_MEMBER_PAGE_SIZE,
} from '../groups/group-member.repository.js';
import {
  findUser,
  findUserByUserName,
  findUsersByEmail,
  lifecycleStateOf,
} from '../users/user.repository.js';
import { findTenantById, findTenantBySlug } from '../tenants/tenant.repository.js';
import {
  decodeChangeCursor,
  DEFAULT_CHANGE_BATCH_SIZE,
  DEFAULT_CHANGE_POLL_INTERVAL_MS,
  encodeChangeCursor,
  MAX_CHANGE_BATCH_SIZE,
  readChangeFeed,
  type ChangeFeedOptions,
  type DirectoryChange,
} from './change-feed.js';
import {
  toDirectoryUser,
  type DirectoryGroup,
  type DirectoryGroupRef,
  type DirectoryMemberPage,
  type DirectoryUser,
} from './read-models.js';

/** Connections the handle's pool opens at most, unless `poolMax` says otherwise (plus one LISTEN). */
export const DEFAULT_DIRECTORY_POOL_MAX = 4;
/** Members per `membersOf` page unless `limit` says otherwise; at most `MAX_MEMBER_PAGE_SIZE`. */
export const DEFAULT_MEMBER_PAGE_SIZE = 100;
export { MAX_MEMBER_PAGE_SIZE };

/** Which tenant a call reads; defaults to the one given to {@link openDirectory}. */
export interface TenantOption {
  /** The tenant's slug. */
  readonly tenant?: string;
}

export type OpenDirectoryOptions = {
  /** The tenant (slug) calls read unless they name another one. */
  readonly tenant?: string;
} & (
  | {
      /** Roster's PostgreSQL (`postgres://…`), usually its `DATABASE_URL`; a read-only role will do. */
      readonly databaseUrl: string;
      /** Pool size, 1 to 100. */
      readonly poolMax?: number;
    }
  | {
      /** A database Roster already opened in this process (the embedded PGlite, tests); not closed by `close()`. */
      readonly database: Pick<RosterDatabase, 'db' | 'listen'>;
    }
);

/** A read-only handle on the directory. */
export interface Directory {
  readonly users: {
    /** By id; a deprovisioned user (SCIM-deleted, in its grace period) is found, never active. */
    findById(id: string, options?: TenantOption): Promise<DirectoryUser | undefined>;
    /** By userName, compared without case (RFC 7643 §4.1.1: caseExact false) and in Unicode NFC. */
    findByUserName(userName: string, options?: TenantOption): Promise<DirectoryUser | undefined>;
    /** Every user holding this email (compared like userName), oldest first: emails are not unique. */
    findByEmail(email: string, options?: TenantOption): Promise<DirectoryUser[]>;
  };
  readonly groups: {
    findById(id: string, options?: TenantOption): Promise<DirectoryGroup | undefined>;
  };
  /** Whether the user exists and is active (false for an unknown id). */
  isActive(userId: string, options?: TenantOption): Promise<boolean>;
  /** The groups the user is a direct member of, by displayName. */
  groupsOf(userId: string, options?: TenantOption): Promise<DirectoryGroupRef[]>;
  /**
   * A group's direct members, a page at a time in a stable order (deprovisioned users left out);
   * an unknown group has no members.
   */
  membersOf(
    groupId: string,
    options?: TenantOption & { readonly after?: string; readonly limit?: number },
  ): Promise<DirectoryMemberPage>;
  /**
   * The tenant's changes after `since`, in commit order, then each new one as it commits.
   * Break out of the loop, abort `signal` or `close()` the directory to end it.
   */
  changes(options?: ChangeFeedOptions): AsyncGenerator<DirectoryChange, void, undefined>;
  /** The cursor of the tenant's latest change: `changes({ since: head })` yields only what comes next. */
  head(options?: TenantOption): Promise<string>;
  /** Ends every feed and closes the connections the handle opened. */
  close(): Promise<void>;
}

interface ResolvedTenant {
  readonly id: string;
  readonly slug: string;
}

/**
 * Opens a read handle on Roster's directory.
 *
 * @example
 * const directory = await openDirectory({ databaseUrl: process.env.DATABASE_URL, tenant: 'acme' });
 * const ada = await directory.users.findByUserName('ada@acme.example');
 * for await (const change of directory.changes({ since: savedCursor })) { ... }
 */
export async function openDirectory(options: OpenDirectoryOptions): Promise<Directory> {
  let database: Pick<RosterDatabase, 'db' | 'listen'>;
  let owned: RosterDatabase | undefined;
  if ('database' in options) {
    database = options.database;
  } else {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl ?? ''))
      throw invalid('databaseUrl must be a postgres:// URL', { field: 'databaseUrl' });
    const poolMax = clampLimit(options.poolMax, DEFAULT_DIRECTORY_POOL_MAX, 100);
    owned = await openDatabase({ kind: 'postgres', url: options.databaseUrl, poolMax });
    database = owned;
  }
  try {
    const directory = new ReadDirectory(database.db, database, owned);
    // Fails now, not at the first call, when the database or the tenant is not there.
    if (options.tenant !== undefined) directory.defaultTenant = await directory.tenant(options);
    else await sql`select 1`.execute(database.db);
    return directory;
  } catch (error) {
    await owned?.close();
    throw error;
  }
}

/** Dispatches the one LISTEN connection's notifications to the feeds of each tenant. */
class ChangeNotifications {
  readonly #database: Pick<RosterDatabase, 'listen'>;
  readonly #feeds = new Map<string, Set<() => void>>();
  #listening: Promise<Unlisten> | undefined;

  constructor(database: Pick<RosterDatabase, 'listen'>) {
    this.#database = database;
  }

  async subscribe(tenantId: string, wake: () => void): Promise<() => void> {
    const feeds = this.#feeds.get(tenantId) ?? new Set();
    this.#feeds.set(tenantId, feeds);
    feeds.add(wake);
    const unsubscribe = () => {
      feeds.delete(wake);
      if (feeds.size === 0 && this.#feeds.get(tenantId) === feeds) this.#feeds.delete(tenantId);
    };
    this.#listening ??= this.#database.listen(CHANGES_CHANNEL, (payload) => this.#wake(payload));
    try {
      await this.#listening;
    } catch (error) {
      this.#listening = undefined;
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** `undefined`: the connection was lost and re-opened; wake everyone to catch up. */
  #wake(tenantId: string | undefined): void {
    const feeds =
      tenantId === undefined
        ? [...this.#feeds.values()].flatMap((set) => [...set])
        : [...(this.#feeds.get(tenantId) ?? [])];
    for (const wake of feeds) wake();
  }

  async close(): Promise<void> {
    const listening = this.#listening;
    this.#listening = undefined;
    if (!listening) return;
    const unlisten = await listening.catch(() => undefined);
    await unlisten?.();
  }
}

class ReadDirectory implements Directory {
  readonly #db: Db;
  readonly #owned: RosterDatabase | undefined;
  readonly #notifications: ChangeNotifications;
  readonly #closing = new AbortController();
  readonly #tenants = new Map<string, ResolvedTenant>();
  defaultTenant: ResolvedTenant | undefined;

  constructor(db: Db, database: Pick<RosterDatabase, 'listen'>, owned: RosterDatabase | undefined) {
    this.#db = db;
    this.#owned = owned;
    this.#notifications = new ChangeNotifications(database);
  }

  /** The tenant a call names, else the default one; slugs are resolved once. */
  async tenant(options: TenantOption = {}): Promise<ResolvedTenant> {
    this.#assertOpen();
    const slug = options.tenant;
    if (slug === undefined) {
      if (this.defaultTenant) return this.defaultTenant;
      throw invalid('name a tenant: openDirectory({ tenant }) or the call’s { tenant }', {
        field: 'tenant',
      });
    }
    const known = this.#tenants.get(slug);
    if (known) return known;
    const row = await findTenantBySlug(this.#db, slug);
    if (!row) throw notFound(`tenant "${slug}" does not exist`, { slug });
    const tenant = { id: row.id, slug: row.slug };
    this.#tenants.set(slug, tenant);
    return tenant;
  }

  async #tenantById(id: string): Promise<ResolvedTenant> {
    for (const tenant of this.#tenants.values()) if (tenant.id === id) return tenant;
    if (this.defaultTenant?.id === id) return this.defaultTenant;
    const row = await findTenantById(this.#db, id);
    if (!row) throw notFound('the cursor’s tenant does not exist', { field: 'since' });
    const tenant = { id: row.id, slug: row.slug };
    this.#tenants.set(tenant.slug, tenant);
    return tenant;
  }

  readonly users: Directory['users'] = {
    findById: async (id, options) => {
      const tenant = await this.tenant(options);
      const user = await findUser(this.#db, tenant.id, id, { includeDeprovisioned: true });
      return user && toDirectoryUser(user, tenant.slug);
    },
    findByUserName: async (userName, options) => {
      const tenant = await this.tenant(options);
      const user = await findUserByUserName(this.#db, tenant.id, userName);
      return user && toDirectoryUser(user, tenant.slug);
    },
    findByEmail: async (email, options) => {
      const tenant = await this.tenant(options);
      const users = await findUsersByEmail(this.#db, tenant.id, email);
      return users.map((user) => toDirectoryUser(user, tenant.slug));
    },
  };

  readonly groups: Directory['groups'] = {
    findById: async (id, options) => {
      const tenant = await this.tenant(options);
      const group = await findGroup(this.#db, tenant.id, id);
      return (
        group && {
          id: group.id,
          tenant: tenant.slug,
          displayName: group.displayName,
          externalId: group.externalId,
          managedBy: group.managedBy,
          version: group.version,
          createdAt: group.createdAt,
          updatedAt: group.updatedAt,
        }
      );
    },
  };

  async isActive(userId: string, options?: TenantOption): Promise<boolean> {
    const tenant = await this.tenant(options);
    return (await lifecycleStateOf(this.#db, tenant.id, userId)) === 'active';
  }

  async groupsOf(userId: string, options?: TenantOption): Promise<DirectoryGroupRef[]> {
    const tenant = await this.tenant(options);
    const groups = (await groupsOfUsers(this.#db, tenant.id, [userId])).get(userId) ?? [];
    return groups.map((group) => ({ id: group.value, displayName: group.display }));
  }

  async membersOf(
    groupId: string,
    options: TenantOption & { readonly after?: string; readonly limit?: number } = {},
  ): Promise<DirectoryMemberPage> {
    const tenant = await this.tenant(options);
    const page = await listGroupMembers(this.#db, tenant.id, groupId, {
      limit: clampLimit(options.limit, DEFAULT_MEMBER_PAGE_SIZE, MAX_MEMBER_PAGE_SIZE),
      ...(options.after !== undefined ? { after: options.after } : {}),
    });
    const members = page.members.map((member) => ({
      id: member.value,
      type: member.type === 'Group' ? ('group' as const) : ('user' as const),
      display: member.display,
    }));
    return page.next !== undefined ? { members, next: page.next } : { members };
  }

  async head(options?: TenantOption): Promise<string> {
    const tenant = await this.tenant(options);
    return encodeChangeCursor(tenant.id, await latestChangeSeq(this.#db, tenant.id));
  }

  changes(options: ChangeFeedOptions = {}): AsyncGenerator<DirectoryChange, void, undefined> {
    // Arguments are checked now, so a bad one fails at the call, not at the first iteration.
    this.#assertOpen();
    const batchSize = options.batchSize ?? DEFAULT_CHANGE_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_CHANGE_BATCH_SIZE)
      throw invalid(`batchSize must be a whole number from 1 to ${MAX_CHANGE_BATCH_SIZE}`, {
        field: 'batchSize',
      });
    const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_CHANGE_POLL_INTERVAL_MS;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 10)
      throw invalid('pollIntervalMs must be at least 10', { field: 'pollIntervalMs' });
    const since = options.since !== undefined ? decodeChangeCursor(options.since) : undefined;
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    return this.#feed(options, since, { batchSize, pollIntervalMs, signal });
  }

  async *#feed(
    options: ChangeFeedOptions,
    since: { tenantId: string; seq: number } | undefined,
    settings: { batchSize: number; pollIntervalMs: number; signal: AbortSignal },
  ): AsyncGenerator<DirectoryChange, void, undefined> {
    const tenant =
      options.tenant !== undefined || !since
        ? await this.tenant(options)
        : await this.#tenantById(since.tenantId);
    if (since && since.tenantId !== tenant.id)
      throw invalid('the cursor belongs to another tenant', { field: 'since' });
    yield* readChangeFeed(
      {
        db: this.#db,
        tenantId: tenant.id,
        tenantSlug: tenant.slug,
        subscribe: (tenantId, wake) => this.#notifications.subscribe(tenantId, wake),
      },
      since?.seq,
      settings,
    );
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    await this.#notifications.close();
    await this.#owned?.close();
  }

  #assertOpen(): void {
    if (this.#closing.signal.aborted) throw new Error('the directory is closed');
  }
}
