// What another team's service does with Roster: keep the active people of one tenant in memory,
// up to date within a second of every SCIM push, through the public read API only.
import {
  isActive,
  openDirectory,
  type Directory,
  type DirectoryChange,
  type DirectoryUser,
  type OpenDirectoryOptions,
} from '@roster/core/directory';

/** What the service keeps of a person. */
export interface ActivePerson {
  readonly id: string;
  readonly userName: string;
  readonly displayName: string | null;
}

/** What the service did with one change (its log line, and what the tests watch). */
export interface Applied {
  readonly change: DirectoryChange;
  /** The user is (still, or now) active and in the set; false: not in the set. */
  readonly active: boolean;
  /** How many people the set holds after the change. */
  readonly activeUsers: number;
  /** When the change was applied (ms since the epoch). */
  readonly appliedAt: number;
}

export interface ActiveUsersOptions {
  /** How to reach Roster: `{ databaseUrl }` in production. */
  readonly directory: OpenDirectoryOptions;
  /** The cursor of the last change handled before (stored by `onApplied`); absent: from the start. */
  readonly since?: string;
  /** Called after every change is applied: store `change.cursor` here to resume after a restart. */
  readonly onApplied?: (applied: Applied) => void | Promise<void>;
}

/** A running service: the live set, and how to stop it. */
export interface ActiveUsers {
  readonly people: ReadonlyMap<string, ActivePerson>;
  /** The cursor of the last change applied (what to store to resume). */
  readonly cursor: () => string | undefined;
  /** Resolves when the feed has stopped; rejects if it failed (resume from `cursor()`). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows a tenant's change feed and keeps its active users. Each change names an entity; the
 * service reads that user's current state rather than trusting the change's payload, so a change
 * delivered twice (at-least-once) or late does no harm.
 */
export async function startActiveUsers(options: ActiveUsersOptions): Promise<ActiveUsers> {
  const directory: Directory = await openDirectory(options.directory);
  const people = new Map<string, ActivePerson>();
  const stopping = new AbortController();
  let cursor = options.since;

  const apply = (user: DirectoryUser | undefined, id: string): boolean => {
    if (user && isActive(user)) {
      people.set(id, { id, userName: user.userName, displayName: user.displayName });
      return true;
    }
    people.delete(id); // deactivated, deprovisioned or purged
    return false;
  };

  const follow = async () => {
    for await (const change of directory.changes({
      ...(cursor !== undefined ? { since: cursor } : {}),
      signal: stopping.signal,
    })) {
      if (change.entity.type !== 'user') {
        cursor = change.cursor;
        continue;
      }
      const user = await directory.users.findById(change.entity.id);
      const active = apply(user, change.entity.id);
      cursor = change.cursor;
      await options.onApplied?.({
        change,
        active,
        activeUsers: people.size,
        appliedAt: Date.now(),
      });
    }
  };

  const done = follow();
  // `done` is also returned to the caller; this keeps a failure from being "unhandled" meanwhile.
  done.catch(() => undefined);
  return {
    people,
    cursor: () => cursor,
    done,
    async stop() {
      stopping.abort();
      await done.catch(() => undefined);
      await directory.close();
    },
  };
}
