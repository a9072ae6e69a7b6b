// A list request (GET /Users?…, GET /Groups?…, POST /.search) -> core's DirectoryQuery plus the
// output projection. RFC 7644 §3.4.2 (filter, sort, index paging, attributes), §3.4.3 (the same
// in a SearchRequest body, with arrays and numbers) and RFC 9865 (cursor paging).
import SCIMMY from 'scimmy';
import {
  isCoreError,
  MAX_SEARCH_PAGE_SIZE,
  validateCursor,
  type DirectoryQuery,
  type DirectorySort,
  type Filter,
  type PageRequest,
} from '@roster/core';
import { ScimError, type ScimType } from '../errors/scim-error.js';
import { parseScimFilter } from '../filter/parse-filter.js';
import {
  canonicalPath,
  resolvePath,
  toAttributeRef,
  type ResourceType,
} from '../filter/schema-attributes.js';

/** Most resources one page returns; a larger `count` is cut to it (RFC 7644 §3.4.2.4). */
export const MAX_PAGE_SIZE = MAX_SEARCH_PAGE_SIZE;
/** Resources per page when the client gives no `count`. */
export const DEFAULT_PAGE_SIZE = 100;
/**
 * Seconds a cursor stays usable, at least. Cursors are keyset positions with nothing kept on the
 * server, so they never expire; this is what we promise.
 */
export const CURSOR_TIMEOUT_SECONDS = 86_400;

/** RFC 9865 §4: the ServiceProviderConfig `pagination` object. */
export const PAGINATION_CONFIG = {
  cursor: true,
  index: true,
  defaultPaginationMethod: 'index',
  defaultPageSize: DEFAULT_PAGE_SIZE,
  maxPageSize: MAX_PAGE_SIZE,
  cursorTimeout: CURSOR_TIMEOUT_SECONDS,
} as const;

/** What to return of each resource. */
export interface Projection {
  /** For `new SCIMMY.Schemas.User(resource, 'out', basepath, filter)`; undefined: everything. */
  readonly filter: SCIMMY.Types.Filter | undefined;
  /** Groups: members are not returned, so they need not be read. */
  readonly excludesMembers: boolean;
}

export interface ListRequest {
  readonly query: DirectoryQuery;
  readonly projection: Projection;
}

type Params = Readonly<Record<string, unknown>>;

const bad = (detail: string, scimType: ScimType = 'invalidValue') =>
  new ScimError(400, detail, scimType);

/** Parameter names compared case-insensitively (Entra and Okta agree on spelling; others vary). */
function lookup(params: Params, name: string): unknown {
  const key = Object.keys(params).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : params[key];
  if (Array.isArray(value) && name !== 'attributes' && name !== 'excludedAttributes')
    throw bad(`${name} is given more than once`);
  return value;
}

/** A whole number from a query string ("10") or a SearchRequest body (10). */
function integerParam(params: Params, name: string, scimType: ScimType): number | undefined {
  const raw = lookup(params, name);
  if (raw === undefined) return undefined;
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^[+-]?\d{1,15}$/.test(text)) throw bad(`${name} must be a whole number`, scimType);
  return Number(text);
}

/**
 * Parses a list request's parameters (query string or SearchRequest body).
 *
 * @example
 * const { query, projection } = parseListRequest(req.query, 'User');
 * const page = await searchUsers(db, tenantId, query);
 */
export function parseListRequest(params: Params, resourceType: ResourceType): ListRequest {
  const filterText = filterParam(params);
  const filter: Filter | undefined =
    filterText === undefined ? undefined : parseScimFilter(filterText, resourceType);

  const sort = parseSort(params, resourceType);
  const page = parsePage(params);
  return listRequestOf(resourceType, filter, sort, page, parseProjection(params, resourceType));
}

function filterParam(params: Params): string | undefined {
  const filter = lookup(params, 'filter');
  if (filter !== undefined && typeof filter !== 'string')
    throw bad('filter must be a string', 'invalidFilter');
  return filter;
}

function listRequestOf(
  resourceType: ResourceType,
  filter: Filter | undefined,
  sort: DirectorySort | undefined,
  page: PageRequest,
  projection: Projection,
): ListRequest {
  const query: DirectoryQuery = {
    ...(filter ? { filter } : {}),
    ...(sort ? { sort } : {}),
    page,
  };
  try {
    validateCursor(resourceType, query);
  } catch (error) {
    // RFC 9865 §3: a cursor we did not issue for this query
    if (isCoreError(error, 'Invalid')) throw bad(error.message, 'invalidCursor');
    throw error;
  }
  return { query, projection };
}

/** A root search (POST /.search, RFC 7644 §3.4.3): one page over Users, then Groups. */
export interface RootSearchRequest {
  /** 1-based index of the page's first resource in the list of Users then Groups. */
  readonly startIndex: number;
  /** Resources on the page, at most. */
  readonly count: number;
  /** Each type's query without its page; undefined: the filter names attributes it lacks. */
  readonly users: RootTypeRequest | undefined;
  readonly groups: RootTypeRequest | undefined;
}

/** One type's part of a root search; `page(startIndex, count)` gives its ListRequest. */
export interface RootTypeRequest {
  page(startIndex: number, count: number): ListRequest;
}

const RESOURCE_TYPES = ['User', 'Group'] as const;

/**
 * Parses a root SearchRequest once: paging for the whole list, and per type the filter, sort and
 * projection. An attribute one type has is resolved for that type and ignored by the other; a
 * filter naming an attribute a type lacks matches nothing of it (RFC 7644 §3.4.2.2); an attribute
 * neither type has is 400, as on a type's own endpoint.
 */
export function parseRootSearch(params: Params): RootSearchRequest {
  const page = parsePage(params);
  if (page.kind !== 'index')
    throw bad('cursor paging is offered per resource type, not on /.search at the root');
  const filterText = filterParam(params);
  const perType = new Map<ResourceType, RootTypeRequest>();
  let filterFailure: unknown;
  const sortFailures: unknown[] = [];
  const unresolved = new Map<string, number>();
  const projections = new Map<ResourceType, Projection>();
  for (const type of RESOURCE_TYPES) {
    const projection = resolveProjection(params, type, (name) =>
      unresolved.set(name, (unresolved.get(name) ?? 0) + 1),
    );
    projections.set(type, projection);
  }
  // Every name must be something in at least one type.
  for (const [name, missingIn] of unresolved)
    if (missingIn === RESOURCE_TYPES.length)
      throw bad(`${projectionParamName(params)} names an unknown attribute: ${name}`);
  for (const type of RESOURCE_TYPES) {
    let filter: Filter | undefined;
    try {
      filter = filterText === undefined ? undefined : parseScimFilter(filterText, type);
    } catch (error) {
      if (error instanceof ScimError && error.scimType === 'invalidFilter') {
        filterFailure ??= error;
        continue;
      }
      throw error;
    }
    let sort: DirectorySort | undefined;
    try {
      sort = parseSort(params, type);
    } catch (error) {
      // sortBy an attribute only the other type has: this type's part is left unsorted.
      sortFailures.push(error);
      if (sortFailures.length === RESOURCE_TYPES.length) throw error;
    }
    const projection = projections.get(type) ?? { filter: undefined, excludesMembers: false };
    perType.set(type, {
      page: (startIndex, count) =>
        listRequestOf(type, filter, sort, { kind: 'index', startIndex, count }, projection),
    });
  }
  if (perType.size === 0) throw filterFailure;
  return {
    startIndex: page.startIndex,
    count: page.count,
    users: perType.get('User'),
    groups: perType.get('Group'),
  };
}

const projectionParamName = (params: Params) =>
  lookup(params, 'attributes') !== undefined ? 'attributes' : 'excludedAttributes';

function parseSort(params: Params, resourceType: ResourceType): DirectorySort | undefined {
  const sortBy = lookup(params, 'sortBy');
  const sortOrder = lookup(params, 'sortOrder');
  if (
    sortOrder !== undefined &&
    (typeof sortOrder !== 'string' || !/^(a|de)scending$/i.test(sortOrder))
  )
    throw bad('sortOrder must be ascending or descending');
  if (sortBy === undefined) return undefined; // RFC 7644 §3.4.2.3: sortOrder alone changes nothing
  if (typeof sortBy !== 'string' || sortBy.trim() === '')
    throw bad('sortBy must name an attribute');
  let resolved = resolvePath(resourceType, sortBy.trim());
  if (!resolved) throw bad(`sortBy names an unknown attribute: ${sortBy}`);
  if (resolved.attribute.type === 'complex' && !resolved.subAttribute) {
    const value = resolved.attribute.subAttributes?.find((s) => s.name === 'value');
    if (value) resolved = { ...resolved, subAttribute: value };
  }
  const attribute = toAttributeRef(resolved);
  const name = canonicalPath(resolved);
  // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary (or first) value.
  if (!attribute) throw bad(`sortBy must name a simple attribute; ${name} is not one`);
  if (['password', 'meta.location', 'meta.resourceType', 'meta.version'].includes(name))
    throw bad(`cannot sort by ${name}`);
  return {
    attribute,
    order:
      typeof sortOrder === 'string' && /^descending$/i.test(sortOrder) ? 'descending' : 'ascending',
  };
}

function parsePage(params: Params): PageRequest {
  const cursor = lookup(params, 'cursor');
  const usesCursor = cursor !== undefined;
  // RFC 9865 §3: an unusable count in cursor paging is invalidCount
  const requested = integerParam(params, 'count', usesCursor ? 'invalidCount' : 'invalidValue');
  // RFC 7644 §3.4.2.4: a negative count is 0; more than we serve is cut to the maximum
  const count = Math.min(Math.max(requested ?? DEFAULT_PAGE_SIZE, 0), MAX_PAGE_SIZE);
  const startIndex = integerParam(params, 'startIndex', 'invalidValue');
  if (usesCursor) {
    if (startIndex !== undefined)
      throw bad('startIndex and cursor cannot be used together (RFC 9865 §3)');
    if (typeof cursor !== 'string') throw bad('cursor must be a string', 'invalidCursor');
    // an empty cursor asks for the first page
    return { kind: 'cursor', cursor: cursor === '' ? null : cursor, count };
  }
  // RFC 7644 §3.4.2.4: startIndex is 1-based; less than 1 is 1
  return { kind: 'index', startIndex: Math.max(startIndex ?? 1, 1), count };
}

/** Names from `a,b.c` (query string) or ["a","b.c"] (SearchRequest). */
function attributeNames(
  params: Params,
  name: 'attributes' | 'excludedAttributes',
): string[] | undefined {
  const raw = lookup(params, name);
  if (raw === undefined) return undefined;
  const parts = Array.isArray(raw) ? raw : [raw];
  if (!parts.every((p): p is string => typeof p === 'string'))
    throw bad(`${name} must be a list of attribute names`);
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Attributes the resource always carries; projection cannot remove them (RFC 7643 §7 returned:always). */
const ALWAYS = new Set(['id', 'schemas']);

/**
 * `attributes` / `excludedAttributes` as a scimmy projection (RFC 7644 §3.4.2.5); attributes wins
 * when both are given. Unknown names are a 400 invalidValue.
 */
export function parseProjection(params: Params, resourceType: ResourceType): Projection {
  return resolveProjection(params, resourceType, (name, param) => {
    throw bad(`${param} names an unknown attribute: ${name}`);
  });
}

/** The projection, calling `unknown` for each name the type does not have (then left out). */
function resolveProjection(
  params: Params,
  resourceType: ResourceType,
  unknown: (name: string, param: 'attributes' | 'excludedAttributes') => void,
): Projection {
  const include = attributeNames(params, 'attributes');
  const exclude = include === undefined ? attributeNames(params, 'excludedAttributes') : undefined;
  const names = include ?? exclude;
  if (names === undefined || names.length === 0)
    return { filter: undefined, excludesMembers: false };
  const canonical = new Set<string>();
  for (const name of names) {
    const resolved = resolvePath(resourceType, name);
    if (!resolved && /^urn:/i.test(name)) {
      // a whole extension (urn:…:enterprise:2.0:User)
      const schema = resolveSchema(resourceType, name);
      if (schema) {
        canonical.add(schema);
        continue;
      }
    }
    if (!resolved) {
      unknown(name, include ? 'attributes' : 'excludedAttributes');
      continue;
    }
    const path = canonicalPath(resolved);
    // scimmy cannot project meta's sub-attributes (resourceType is required): meta is all or
    // nothing, so naming one of them keeps (or leaves) the whole of meta
    if (!path.startsWith('meta.')) canonical.add(path);
  }
  if (include) {
    // schemas, id and meta always: scimmy's projection drops them otherwise, and crashes on a
    // projection of only a sub-attribute or an extension attribute (scimmy 1.3.5).
    const wanted = [
      'schemas',
      'id',
      'meta',
      ...[...canonical].filter((n) => !['schemas', 'id', 'meta'].includes(n)),
    ];
    return {
      filter: new SCIMMY.Types.Filter(wanted.map((n) => `${n} pr`).join(' and ')),
      excludesMembers:
        resourceType === 'Group' &&
        !wanted.some((n) => n === 'members' || n.startsWith('members.')),
    };
  }
  const dropped = [...canonical].filter((n) => !ALWAYS.has(n));
  return {
    filter:
      dropped.length > 0
        ? new SCIMMY.Types.Filter(dropped.map((n) => `${n} np`).join(' and '))
        : undefined,
    excludesMembers: resourceType === 'Group' && dropped.includes('members'),
  };
}

function resolveSchema(resourceType: ResourceType, name: string): string | undefined {
  const schemas = resourceType === 'User' ? [SCIMMY.Schemas.EnterpriseUser.definition.id] : [];
  return schemas.find((id) => id.toLowerCase() === name.toLowerCase());
}
