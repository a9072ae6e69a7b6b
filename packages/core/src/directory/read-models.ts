// The read models of the consumer API: stable, documented shapes, never database rows. A field
// is only ever added here; renaming or removing one is a breaking change of @roster/core/directory.
import { publicEmails, type User } from '../users/user.js';

/** Where a user is in its life (README, "The rules"). */
export type DirectoryUserState = 'active' | 'inactive' | 'deprovisioned';

/** An email address of a user (RFC 7643 §4.1.2). */
export interface DirectoryEmail {
  readonly value: string;
  readonly type?: string;
  readonly primary?: boolean;
}

/** A person of the directory, as another app sees them. */
export interface DirectoryUser {
  readonly id: string;
  /** The tenant's slug. */
  readonly tenant: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly emails: readonly DirectoryEmail[];
  /** True exactly when `state` is `active`: the only users who may sign in. */
  readonly active: boolean;
  /**
   * `inactive`: deactivated (SCIM active:false, an operator, or the dormant-user cleanup).
   * `deprovisioned`: deleted over SCIM and waiting out the tenant's grace period before its purge;
   * it may still come back with the same id, so lookups return it (never as active).
   */
  readonly state: DirectoryUserState;
  /** Who keeps the user up to date: `scim` (the IdP pushes it) or `jit` (created at sign-in). */
  readonly managedBy: 'scim' | 'jit';
  /** Bumped by every change (SCIM's ETag): compare it to skip a change already applied. */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A group a user is a direct member of. */
export interface DirectoryGroupRef {
  readonly id: string;
  readonly displayName: string;
}

/** A group of the directory (its members are read a page at a time with `membersOf`). */
export interface DirectoryGroup extends DirectoryGroupRef {
  readonly tenant: string;
  readonly externalId: string | null;
  readonly managedBy: 'scim' | 'jit';
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A direct member of a group: a user or a nested group. */
export interface DirectoryMember {
  readonly id: string;
  readonly type: 'user' | 'group';
  /** A user's displayName (else its userName), a group's displayName. */
  readonly display: string | null;
}

/** One page of a group's members. */
export interface DirectoryMemberPage {
  readonly members: readonly DirectoryMember[];
  /** Pass back as `after` for the following page; absent on the last page. */
  readonly next?: string;
}

/** Whether the user may use your app now: it exists and its state is `active`. */
export function isActive(user: Pick<DirectoryUser, 'state'> | undefined | null): boolean {
  return user?.state === 'active';
}

export function toDirectoryUser(user: User, tenant: string): DirectoryUser {
  return {
    id: user.id,
    tenant,
    userName: user.userName,
    externalId: user.externalId,
    displayName: user.displayName,
    givenName: user.givenName,
    familyName: user.familyName,
    emails: publicEmails(user.emails),
    active: user.state === 'active',
    state: user.state,
    managedBy: user.managedBy,
    version: user.version,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
