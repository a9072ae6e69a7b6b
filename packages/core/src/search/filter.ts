// A directory filter: protocol-neutral in shape, with attribute references in SCIM terms (its one
// producer is the SCIM adapter, which resolves names against the schemas before building it).

/** Comparison operators (RFC 7644 §3.4.2.2); `pr` takes no value. */
export const FILTER_OPERATORS = [
  'eq',
  'ne',
  'co',
  'sw',
  'ew',
  'gt',
  'ge',
  'lt',
  'le',
  'pr',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** RFC 7643 §2.3 data types of a simple attribute. */
export type AttributeType =
  'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary';

/** One attribute, resolved and canonically spelled. */
export interface AttributeRef {
  /** '' for the resource's core schema, else the extension URN (data sits under that key). */
  readonly schema: string;
  /** Canonical names: ['userName'], ['name', 'givenName'], ['emails', 'value'], ['meta', 'lastModified']. */
  readonly path: readonly [string] | readonly [string, string];
  /** The type of the last segment. */
  readonly type: AttributeType;
  readonly caseExact: boolean;
  /** path[0] is multi-valued (emails, members, phoneNumbers, ...): a comparison matches when any element does. */
  readonly multiValued: boolean;
}

export type FilterValue = string | number | boolean | null;

/**
 * A filter tree.
 * - `compare` on a multi-valued attribute matches when at least one element matches.
 * - `element` is a SCIM valuePath (`emails[type eq "work" and value co "x"]`): its `filter`
 *   holds conditions on ONE element; their attribute refs have `path[0] === attribute`.
 * - `ne` is `not eq`: a resource without the attribute matches, and a multi-valued attribute
 *   matches when none of its values equals the operand.
 * - `eq null` means "not present", `ne null` means "present".
 */
export type Filter =
  | { readonly kind: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly kind: 'not'; readonly filter: Filter }
  | {
      readonly kind: 'compare';
      readonly attribute: AttributeRef;
      readonly op: FilterOperator;
      /** Absent only for `pr`. */
      readonly value?: FilterValue;
    }
  | {
      readonly kind: 'element';
      readonly attribute: string;
      readonly schema: string;
      readonly filter: Filter;
    };

/** The ordering of a list: by one singular attribute, nulls last, the id breaking ties. */
export interface DirectorySort {
  readonly attribute: AttributeRef;
  readonly order: 'ascending' | 'descending';
}

/** A page request: 1-based offset paging (RFC 7644 §3.4.2.4) or cursor paging (RFC 9865). */
export type PageRequest =
  | { readonly kind: 'index'; readonly startIndex: number; readonly count: number }
  | { readonly kind: 'cursor'; readonly cursor: string | null; readonly count: number };

export interface DirectoryQuery {
  readonly filter?: Filter | undefined;
  readonly sort?: DirectorySort | undefined;
  readonly page: PageRequest;
}

export interface DirectoryPage<T> {
  readonly items: T[];
  /** Every match, not just this page (exact). */
  readonly totalResults: number;
  /** Index paging: the 1-based position of items[0]. */
  readonly startIndex?: number;
  /** Cursor paging: absent on the last page. */
  readonly nextCursor?: string;
  /** Cursor paging: absent on the first page. */
  readonly previousCursor?: string;
}
