/** A group of the directory; its members are rows, never one value (a group may have 100k). */
export interface Group {
  readonly id: string;
  readonly tenantId: string;
  readonly displayName: string;
  readonly externalId: string | null;
  /** `scim` (pushed by the IdP) or `jit` (created from an assertion's groups attribute). */
  readonly managedBy: 'scim' | 'jit';
  readonly version: number;
  readonly scimResource: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface GroupAttributes {
  readonly displayName: string;
  readonly externalId?: string | null | undefined;
  readonly scimResource?: Readonly<Record<string, unknown>> | undefined;
}

/** Member changes in proportion to the change, never a rewrite of the whole group. */
export interface MemberChange {
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  /** Replace every member (SCIM PUT, or PATCH replace of `members`). */
  readonly replaceAll?: readonly string[];
}
