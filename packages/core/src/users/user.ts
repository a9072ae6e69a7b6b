import type { LifecycleState, UserSource } from '../db/database.js';

/** A person as the operator sees them in a listing (README, "The rules"). */
export interface UserSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly state: LifecycleState;
  /** Where the user came from. */
  readonly source: UserSource;
  /** Who manages it now (a JIT user adopted by SCIM has source `jit`, managedBy `scim`). */
  readonly managedBy: UserSource;
  readonly lastSignInAt: Date | null;
  readonly purgeAfter: Date | null;
  readonly createdAt: Date;
  readonly version: number;
}

/** An email address of a user (RFC 7643 §4.1.2); matched only where the IdP allows it. */
export interface UserEmail {
  readonly value: string;
  readonly type?: string | undefined;
  readonly primary?: boolean | undefined;
}

/** A user's emails as Roster shows them outside: a type when there is one, `primary` only when true. */
export function publicEmails(
  emails: readonly UserEmail[],
): { value: string; type?: string; primary?: true }[] {
  return emails.map((email) => ({
    value: email.value,
    ...(email.type ? { type: email.type } : {}),
    ...(email.primary ? { primary: true } : {}),
  }));
}

/** The one user, whichever door they came in by (README, "The rules"). */
export interface User extends UserSummary {
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly emails: readonly UserEmail[];
  readonly active: boolean;
  /** Why the user is inactive: `scim` (the IdP said active:false), `dormant` (cleanup), `operator`. */
  readonly inactiveReason: string | null;
  readonly adoptedAt: Date | null;
  readonly deprovisionedAt: Date | null;
  /** The full SCIM representation (core schema and extensions) as last written. */
  readonly scimResource: Readonly<Record<string, unknown>>;
  readonly updatedAt: Date;
}

/** What a door says about a person: SCIM's resource, or an assertion's mapped attributes. */
export interface UserAttributes {
  readonly userName: string;
  readonly externalId?: string | null | undefined;
  readonly displayName?: string | null | undefined;
  readonly givenName?: string | null | undefined;
  readonly familyName?: string | null | undefined;
  readonly emails?: readonly UserEmail[] | undefined;
  /** SCIM `active`; absent means "unchanged" on an update and true on a create. */
  readonly active?: boolean | undefined;
  /**
   * The id of the user's manager (SCIM enterprise `manager.value`): it must name a user of the
   * same tenant that is not deprovisioned; null means none. Absent: not checked.
   */
  readonly managerId?: string | null | undefined;
  /** SCIM only: the representation to keep (validated by the SCIM adapter). */
  readonly scimResource?: Readonly<Record<string, unknown>> | undefined;
}

/** A user's lifecycle state as a use case writes it (rules 3, 5 and 6). */
export interface UserStateChange {
  readonly lifecycle: LifecycleState;
  readonly inactiveReason: string | null;
  readonly purgeAfter: Date | null;
  readonly deprovisionedAt: Date | null;
}

/** The lifecycle states a user moves into (rules 3, 5 and 6), built in one place. */
export const userState = {
  active: (): UserStateChange => ({
    lifecycle: 'active',
    inactiveReason: null,
    purgeAfter: null,
    deprovisionedAt: null,
  }),
  /** Deactivated for `reason` (`scim`, `jit`, `operator`, `dormant`); a dormant user also gets a purge date. */
  inactive: (reason: string, purgeAfter: Date | null = null): UserStateChange => ({
    lifecycle: 'inactive',
    inactiveReason: reason,
    purgeAfter,
    deprovisionedAt: null,
  }),
  deprovisioned: (now: Date, purgeAfter: Date): UserStateChange => ({
    lifecycle: 'deprovisioned',
    inactiveReason: 'scim_delete',
    purgeAfter,
    deprovisionedAt: now,
  }),
};
