import type { LifecycleState, UserSource } from '../db/database.js';

/** A person as the operator sees them in a listing (PRODUCT.md "The one user"). */
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
