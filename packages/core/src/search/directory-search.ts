// SCIM-shaped listing of users and groups: filter, sort and page pushed into one SQL query, with
// an exact totalResults (trigger-kept counters when unfiltered, count(*) over indexes otherwise).
import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type { GroupTable, UserTable } from '../db/database.js';
import type { Db } from '../db/transaction.js';
import { invalid } from '../errors.js';
import type { Group } from '../groups/group.js';
import { toGroup } from '../groups/group.mapper.js';
import type { User } from '../users/user.js';
import { withEmails } from '../users/user.repository.js';
import {
  compileFilter,
  sortExpression,
  type SearchResource,
  type SortKeyType,
} from './compile-filter.js';
import { decodeCursor, encodeCursor, queryFingerprint, type CursorPosition } from './cursor.js';
import type { DirectoryPage, DirectoryQuery } from './filter.js';

/** The most rows one page may ask for; the SCIM adapter caps `count` to it first. */
export const MAX_SEARCH_PAGE_SIZE = 1000;

type Sql = RawBuilder<unknown>;

interface OrderKey {
  readonly expr: Sql;
  readonly type: SortKeyType;
  /** Never null (created_at, updated_at, id): row comparisons and plain index order apply. */
  readonly notNull: boolean;
  readonly ascending: boolean;
}

const TABLES = {
  User: {
    table: sql.table('users'),
    id: sql.ref('users.id'),
    created: sql.ref('users.created_at'),
    // a SCIM-deleted (deprovisioned) user is 404 to SCIM, so it is in no list either
    scope: (tenantId: string) =>
      sql<SqlBool>`users.tenant_id = ${tenantId} and users.lifecycle_state <> 'deprovisioned'`,
    counter: sql.ref('directory_counts.users'),
  },
  Group: {
    table: sql.table('groups'),
    id: sql.ref('groups.id'),
    created: sql.ref('groups.created_at'),
    scope: (tenantId: string) => sql<SqlBool>`groups.tenant_id = ${tenantId}`,
    counter: sql.ref('directory_counts.groups'),
  },
} as const;

/**
 * Sort keys whose column is NOT NULL: keyset by row comparison, and no NULLS clause, so a
 * (backward) index scan serves either order.
 */
const NOT_NULL_SORTS: Readonly<Record<SearchResource, ReadonlySet<string>>> = {
  User: new Set(['|id', '|userName', '|meta.created', '|meta.lastModified']),
  Group: new Set(['|id', '|displayName', '|meta.created', '|meta.lastModified']),
};

function orderKey(resource: SearchResource, tenantId: string, query: DirectoryQuery): OrderKey {
  if (!query.sort) {
    return { expr: TABLES[resource].created, type: 'timestamptz', notNull: true, ascending: true };
  }
  const { attribute, order } = query.sort;
  const { expr, type } = sortExpression(attribute, resource, tenantId);
  return {
    expr,
    type,
    notNull: NOT_NULL_SORTS[resource].has(`${attribute.schema}|${attribute.path.join('.')}`),
    ascending: order === 'ascending',
  };
}

/** Rows after `position` in the scan direction (nulls sort last in the requested order). */
function keysetCondition(
  key: OrderKey,
  id: Sql,
  position: CursorPosition,
  scanAscending: boolean,
  nullsLast: boolean,
): RawBuilder<SqlBool> {
  const cmp = scanAscending ? sql`>` : sql`<`;
  const idValue = sql`${position.id}::uuid`;
  if (position.key === null) {
    if (key.notNull)
      throw invalid('cursor is not valid', { field: 'cursor', reason: 'invalidCursor' });
    return nullsLast
      ? sql<SqlBool>`(${key.expr} is null and ${id} ${cmp} ${idValue})`
      : sql<SqlBool>`((${key.expr} is null and ${id} ${cmp} ${idValue}) or ${key.expr} is not null)`;
  }
  const value = sql`${position.key}::${sql.raw(key.type)}`;
  if (key.notNull) return sql<SqlBool>`((${key.expr}, ${id}) ${cmp} (${value}, ${idValue}))`;
  const after = sql<SqlBool>`(${key.expr} ${cmp} ${value} or (${key.expr} = ${value} and ${id} ${cmp} ${idValue})`;
  return nullsLast ? sql<SqlBool>`(${after} or ${key.expr} is null))` : sql<SqlBool>`${after})`;
}

function orderBy(key: OrderKey, id: Sql, scanAscending: boolean, nullsLast: boolean): Sql {
  const direction = sql.raw(scanAscending ? 'asc' : 'desc');
  // A NOT NULL key needs no NULLS clause, so a backward index scan serves descending order.
  const nulls = key.notNull ? sql`` : sql.raw(nullsLast ? ' nulls last' : ' nulls first');
  return sql`${key.expr} ${direction}${nulls}, ${id} ${direction}`;
}

interface KeyedRow {
  readonly id: string;
  readonly sort_key: string | null;
}

async function search<Row extends KeyedRow>(
  db: Db,
  resource: SearchResource,
  tenantId: string,
  query: DirectoryQuery,
): Promise<Omit<DirectoryPage<Row>, 'items'> & { rows: Row[] }> {
  const t = TABLES[resource];
  const where = query.filter
    ? sql<SqlBool>`${t.scope(tenantId)} and ${compileFilter(query.filter, resource, tenantId)}`
    : t.scope(tenantId);
  const key = orderKey(resource, tenantId, query);
  const page = query.page;
  const count = Math.min(Math.max(Math.trunc(page.count), 0), MAX_SEARCH_PAGE_SIZE);

  const totalResults = query.filter
    ? Number(
        (
          await sql<{
            n: number;
          }>`select count(*)::integer as n from ${t.table} where ${where}`.execute(db)
        ).rows[0]?.n ?? 0,
      )
    : await unfilteredCount(db, resource, tenantId);

  const select = (condition: RawBuilder<SqlBool>, order: Sql, limit: number, offset = 0) =>
    sql<Row>`select ${t.table}.*, (${key.expr})::text as sort_key from ${t.table} where ${where} and ${condition} order by ${order} limit ${limit} offset ${offset}`.execute(
      db,
    );

  if (page.kind === 'index') {
    const startIndex = Math.max(1, Math.trunc(page.startIndex));
    if (count === 0) return { rows: [], totalResults, startIndex };
    const { rows } = await select(
      sql<SqlBool>`true`,
      orderBy(key, t.id, key.ascending, true),
      count,
      startIndex - 1,
    );
    return { rows, totalResults, startIndex };
  }

  // RFC 9865 cursor paging: keyset on (sort key, id); count + 1 rows tell whether more follow.
  const fingerprint = queryFingerprint({ resource, filter: query.filter, sort: query.sort });
  const position = page.cursor ? decodeCursor(page.cursor, fingerprint, key.type) : undefined;
  if (count === 0) return { rows: [], totalResults };
  const backwards = position?.direction === 'previous';
  const scanAscending = backwards ? !key.ascending : key.ascending;
  const nullsLast = !backwards;
  const { rows: fetched } = await select(
    position ? keysetCondition(key, t.id, position, scanAscending, nullsLast) : sql<SqlBool>`true`,
    orderBy(key, t.id, scanAscending, nullsLast),
    count + 1,
  );
  const more = fetched.length > count;
  const rows = fetched.slice(0, count);
  if (backwards) rows.reverse();
  const at = (row: Row | undefined, direction: CursorPosition['direction']) =>
    row ? encodeCursor(fingerprint, { direction, key: row.sort_key, id: row.id }) : undefined;
  const here = (direction: CursorPosition['direction']) =>
    position ? encodeCursor(fingerprint, { ...position, direction }) : undefined;
  const nextCursor = backwards
    ? (at(rows.at(-1), 'next') ?? here('next'))
    : more
      ? at(rows.at(-1), 'next')
      : undefined;
  const previousCursor = backwards
    ? more
      ? at(rows[0], 'previous')
      : undefined
    : position
      ? (at(rows[0], 'previous') ?? here('previous'))
      : undefined;
  return {
    rows,
    totalResults,
    ...(nextCursor ? { nextCursor } : {}),
    ...(previousCursor ? { previousCursor } : {}),
  };
}

/**
 * Checks a query's cursor without touching the database, so an adapter can refuse a bad one
 * with its own error before searching (SCIM: 400 invalidCursor). `Invalid` (details.reason
 * `invalidCursor`) when it is not a cursor issued for this filter and sort.
 */
export function validateCursor(resource: SearchResource, query: DirectoryQuery): void {
  if (query.page.kind !== 'cursor' || !query.page.cursor) return;
  // the tenant only appears in bound parameters, never in the key type
  const key = orderKey(resource, '', query);
  decodeCursor(
    query.page.cursor,
    queryFingerprint({ resource, filter: query.filter, sort: query.sort }),
    key.type,
  );
}

/** Listable users or groups of a tenant: the sum of the trigger-kept slots, never a table scan. */
export async function unfilteredCount(
  db: Db,
  resource: SearchResource,
  tenantId: string,
): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select coalesce(sum(${TABLES[resource].counter}), 0)::bigint as n from directory_counts where directory_counts.tenant_id = ${tenantId}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * One page of a tenant's users (not deprovisioned) matching a filter, sorted and paged in SQL.
 * A bad cursor or an attribute that cannot be compared that way is `Invalid`.
 *
 * @example
 * const page = await searchUsers(db, tenantId, { filter, page: { kind: 'index', startIndex: 1, count: 100 } });
 */
export async function searchUsers(
  db: Db,
  tenantId: string,
  query: DirectoryQuery,
): Promise<DirectoryPage<User>> {
  const { rows, ...page } = await search<Selectable<UserTable> & KeyedRow>(
    db,
    'User',
    tenantId,
    query,
  );
  return { ...page, items: await withEmails(db, rows) };
}

/** One page of a tenant's groups matching a filter (members are read apart: listGroupMembers). */
export async function searchGroups(
  db: Db,
  tenantId: string,
  query: DirectoryQuery,
): Promise<DirectoryPage<Group>> {
  const { rows, ...page } = await search<Selectable<GroupTable> & KeyedRow>(
    db,
    'Group',
    tenantId,
    query,
  );
  return { ...page, items: rows.map(toGroup) };
}
