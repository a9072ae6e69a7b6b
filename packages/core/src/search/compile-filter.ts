// Filter AST -> one SQL predicate. Column and table names come only from the mapping tables
// below; every value is a bound parameter. Attributes without a column are read from the
// scim_resource jsonb with type-aware comparisons.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { invalid } from '../errors.js';
import { isUuid } from '../ids.js';
import { identityKey } from '../reconciliation/identity-key.js';
import { readTimestamp } from '../timestamp.js';
import type { AttributeRef, Filter, FilterOperator, FilterValue } from './filter.js';

export type SearchResource = 'User' | 'Group';

type Sql = RawBuilder<unknown>;
type Predicate = RawBuilder<SqlBool>;

/**
 * How a promoted column compares: `key` columns hold identityKey(value) (caseExact=false,
 * NFC-normalised; the operand is keyed the same way, which lets the unique index serve `eq`).
 */
type ColumnKind = 'text' | 'key' | 'uuid' | 'timestamptz' | 'boolean';

interface ColumnDef {
  readonly expr: Sql;
  readonly kind: ColumnKind;
  readonly caseExact: boolean;
}

/** An element source of a multi-valued attribute held in rows rather than in the jsonb. */
interface ElementSource {
  /** FROM clause, aliasing the element table(s) `el`. */
  readonly from: (tenantId: string) => Sql;
  /** How `el` belongs to the outer row. */
  readonly correlate: (tenantId: string) => Sql;
  readonly subAttributes: Readonly<Record<string, ColumnDef>>;
  /** Sub-attributes not in `subAttributes` are read from the jsonb copy instead (emails.display). */
  readonly jsonFallback: boolean;
}

const col = (ref: string, kind: ColumnKind, caseExact = kind !== 'text'): ColumnDef => ({
  expr: sql.ref(ref),
  kind,
  caseExact,
});
const expr = (raw: Sql, kind: ColumnKind, caseExact = kind !== 'text'): ColumnDef => ({
  expr: raw,
  kind,
  caseExact,
});

/** Promoted columns, keyed `schema|path` ('' = core schema). */
const COLUMNS: Readonly<Record<SearchResource, Readonly<Record<string, ColumnDef>>>> = {
  User: {
    '|id': col('users.id', 'uuid'),
    '|externalId': col('users.external_id', 'text', true),
    '|userName': col('users.user_name_key', 'key'),
    '|displayName': col('users.display_name', 'text'),
    '|name.givenName': col('users.given_name', 'text'),
    '|name.familyName': col('users.family_name', 'text'),
    '|active': col('users.active', 'boolean'),
    '|meta.created': col('users.created_at', 'timestamptz'),
    '|meta.lastModified': col('users.updated_at', 'timestamptz'),
  },
  Group: {
    '|id': col('groups.id', 'uuid'),
    '|externalId': col('groups.external_id', 'text', true),
    '|displayName': col('groups.display_name', 'text'),
    '|meta.created': col('groups.created_at', 'timestamptz'),
    '|meta.lastModified': col('groups.updated_at', 'timestamptz'),
  },
};

const ELEMENTS: Readonly<Record<SearchResource, Readonly<Record<string, ElementSource>>>> = {
  User: {
    '|emails': {
      from: () => sql`user_emails as el`,
      correlate: (tenantId) => sql`el.tenant_id = ${tenantId} and el.user_id = users.id`,
      subAttributes: {
        value: col('el.value_key', 'key'),
        type: col('el.type', 'text'),
        primary: col('el.is_primary', 'boolean'),
      },
      jsonFallback: true,
    },
    // readOnly `groups` (RFC 7643 §4.1.2): the user's direct memberships
    '|groups': {
      from: () => sql`group_members as el join groups as elg on elg.id = el.group_id`,
      correlate: (tenantId) => sql`el.tenant_id = ${tenantId} and el.member_id = users.id`,
      subAttributes: {
        value: col('el.group_id', 'uuid'),
        display: col('elg.display_name', 'text'),
        type: expr(sql`'direct'`, 'text'),
      },
      jsonFallback: false,
    },
  },
  Group: {
    '|members': {
      from: () => sql`group_members as el`,
      // a SCIM-deleted (deprovisioned) user keeps its rows for a restore but is no member to SCIM
      correlate: (tenantId) =>
        sql`el.tenant_id = ${tenantId} and el.group_id = groups.id and (el.member_user_id is null or exists (select 1 from users as du where du.id = el.member_user_id and du.lifecycle_state <> 'deprovisioned'))`,
      subAttributes: {
        value: col('el.member_id', 'uuid'),
        type: expr(sql`(case when el.member_user_id is null then 'Group' else 'User' end)`, 'text'),
        display: expr(
          sql`coalesce((select coalesce(mu.display_name, mu.user_name) from users as mu where mu.id = el.member_user_id), (select mg.display_name from groups as mg where mg.id = el.member_group_id))`,
          'text',
        ),
      },
      jsonFallback: false,
    },
  },
};

const TABLE: Readonly<Record<SearchResource, 'users' | 'groups'>> = {
  User: 'users',
  Group: 'groups',
};

/** A value to compare: a column (or column-like expression) or a jsonb value. */
type Operand =
  | { readonly kind: 'column'; readonly def: ColumnDef }
  | {
      readonly kind: 'json';
      readonly json: Sql;
      readonly type: AttributeRef['type'];
      readonly caseExact: boolean;
    };

interface Context {
  readonly resource: SearchResource;
  readonly tenantId: string;
  /** Inside an element filter: where that element's sub-attributes are read. */
  readonly element?: { readonly source: ElementSource | undefined };
}

const keyOf = (schema: string, path: readonly string[]) => `${schema}|${path.join('.')}`;

function jsonDocument(resource: SearchResource, schema: string): Sql {
  const doc = sql.ref(`${TABLE[resource]}.scim_resource`);
  return schema === '' ? doc : sql`(${doc} -> ${schema}::text)`;
}

const jsonField = (base: Sql, name: string): Sql => sql`(${base} -> ${name}::text)`;

function resolveOperand(attribute: AttributeRef, context: Context): Operand {
  const json = (value: Sql): Operand => ({
    kind: 'json',
    json: value,
    type: attribute.type,
    caseExact: attribute.caseExact,
  });
  if (context.element) {
    const sub = attribute.path[1];
    const source = context.element.source;
    if (source) {
      const def = sub === undefined ? undefined : source.subAttributes[sub];
      if (!def) throw notFilterable(attribute);
      return { kind: 'column', def };
    }
    return json(sub === undefined ? sql`el.v` : jsonField(sql`el.v`, sub));
  }
  const def = COLUMNS[context.resource][keyOf(attribute.schema, attribute.path)];
  if (def) return { kind: 'column', def };
  let value = jsonDocument(context.resource, attribute.schema);
  for (const segment of attribute.path) value = jsonField(value, segment);
  return json(value);
}

const notFilterable = (attribute: AttributeRef) =>
  invalid(`attribute ${attribute.path.join('.')} cannot be filtered on`, {
    attribute: attribute.path.join('.'),
  });

const TRUE: Predicate = sql<SqlBool>`true`;
const FALSE: Predicate = sql<SqlBool>`false`;

/** Compiles a filter into a predicate over the resource's table (`users` or `groups`). */
export function compileFilter(
  filter: Filter,
  resource: SearchResource,
  tenantId: string,
): Predicate {
  return compile(filter, { resource, tenantId });
}

function compile(filter: Filter, context: Context): Predicate {
  switch (filter.kind) {
    case 'and':
    case 'or': {
      if (filter.filters.length === 0) return filter.kind === 'and' ? TRUE : FALSE;
      const parts = filter.filters.map((f) => compile(f, context));
      return sql<SqlBool>`(${sql.join(parts, filter.kind === 'and' ? sql` and ` : sql` or `)})`;
    }
    case 'not':
      return negate(compile(filter.filter, context));
    case 'element':
      if (context.element) throw invalid('a value filter cannot contain another one');
      return compileElement(filter.schema, filter.attribute, filter.filter, context);
    case 'compare': {
      const { attribute, op, value } = filter;
      if (op !== 'pr' && value === undefined)
        throw invalid(`${op} needs a value`, { attribute: attribute.path.join('.') });
      // eq null: absent; ne: the negation of eq (see Filter)
      if (op === 'eq' && value === null) return negate(compile({ ...filter, op: 'pr' }, context));
      if (op === 'ne') {
        if (value === null) return compile({ ...filter, op: 'pr' }, context);
        return negate(compile({ ...filter, op: 'eq' }, context));
      }
      if (attribute.multiValued && !context.element)
        return compileElement(attribute.schema, attribute.path[0], filter, context);
      return compare(resolveOperand(attribute, context), op, value ?? null, attribute);
    }
  }
}

/** NOT that treats "unknown" (a null comparison) as false first, so `not` is total. */
const negate = (predicate: Predicate): Predicate =>
  sql<SqlBool>`(not coalesce(${predicate}, false))`;

function subAttributesOf(filter: Filter, into: Set<string | undefined>): Set<string | undefined> {
  switch (filter.kind) {
    case 'and':
    case 'or':
      filter.filters.forEach((f) => subAttributesOf(f, into));
      break;
    case 'compare':
      into.add(filter.attribute.path[1]);
      break;
    case 'not':
    case 'element':
      subAttributesOf(filter.filter, into);
  }
  return into;
}

function compileElement(
  schema: string,
  attribute: string,
  inner: Filter,
  context: Context,
): Predicate {
  const rows = ELEMENTS[context.resource][keyOf(schema, [attribute])];
  const subs = subAttributesOf(inner, new Set());
  const rowsServe = rows && [...subs].every((s) => s !== undefined && s in rows.subAttributes);
  if (rows && (rowsServe || !rows.jsonFallback)) {
    const condition = compile(inner, { ...context, element: { source: rows } });
    return sql<SqlBool>`exists (select 1 from ${rows.from(context.tenantId)} where ${rows.correlate(context.tenantId)} and ${condition})`;
  }
  const array = jsonField(jsonDocument(context.resource, schema), attribute);
  const condition = compile(inner, { ...context, element: { source: undefined } });
  return sql<SqlBool>`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${array}) = 'array' then ${array} else '[]'::jsonb end) as el(v) where ${condition})`;
}

const ORDER_SQL = { gt: sql`>`, ge: sql`>=`, lt: sql`<`, le: sql`<=`, eq: sql`=` } as const;

/** `\`, `%` and `_` are literal in co/sw/ew operands. */
const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
function likePattern(op: 'co' | 'sw' | 'ew', value: string): string {
  const escaped = escapeLike(value);
  return op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
}

function asText(value: FilterValue, attribute: AttributeRef): string {
  if (value === null || typeof value === 'boolean')
    throw invalid(`${attribute.path.join('.')} is compared with a string`, {
      attribute: attribute.path.join('.'),
    });
  return String(value);
}

function asDateTime(value: FilterValue, attribute: AttributeRef): string {
  // Strictly: PostgreSQL refuses what Date.parse rolls over (February 30th, year 0).
  if (typeof value !== 'string' || readTimestamp(value) === undefined)
    throw invalid(`${attribute.path.join('.')} is compared with a dateTime string that exists`, {
      attribute: attribute.path.join('.'),
    });
  return value;
}

function asNumber(value: FilterValue, attribute: AttributeRef): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n) || (typeof value === 'string' && value.trim() === ''))
    throw invalid(`${attribute.path.join('.')} is compared with a number`, {
      attribute: attribute.path.join('.'),
    });
  return n;
}

function asBoolean(value: FilterValue, attribute: AttributeRef): boolean {
  if (typeof value !== 'boolean')
    throw invalid(`${attribute.path.join('.')} is compared with true or false`, {
      attribute: attribute.path.join('.'),
    });
  return value;
}

function unsupported(op: FilterOperator, attribute: AttributeRef) {
  return invalid(`${op} cannot compare ${attribute.path.join('.')}`, {
    attribute: attribute.path.join('.'),
    operator: op,
  });
}

type ValueOp = Exclude<FilterOperator, 'ne' | 'pr'>;

function compare(
  operand: Operand,
  op: Exclude<FilterOperator, 'ne'>,
  value: FilterValue,
  attribute: AttributeRef,
): Predicate {
  if (op === 'pr') return present(operand);
  if (operand.kind === 'column') return compareColumn(operand.def, op, value, attribute);
  return compareJson(operand, op, value, attribute);
}

function present(operand: Operand): Predicate {
  if (operand.kind === 'json') {
    const j = operand.json;
    return sql<SqlBool>`coalesce(${j} not in ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb), false)`;
  }
  const c = operand.def.expr;
  return operand.def.kind === 'text' || operand.def.kind === 'key'
    ? sql<SqlBool>`(${c} is not null and ${c} <> '')`
    : sql<SqlBool>`(${c} is not null)`;
}

/** Strings compare as text, lowered on both sides unless caseExact (RFC 7643 §2.3.1). */
function compareText(column: Sql, caseExact: boolean, op: ValueOp, operand: string): Predicate {
  const left = caseExact ? column : sql`lower(${column})`;
  if (op === 'co' || op === 'sw' || op === 'ew') {
    const pattern = likePattern(op, operand);
    return caseExact
      ? sql<SqlBool>`(${left} like ${pattern})`
      : sql<SqlBool>`(${left} like lower(${pattern}))`;
  }
  const right = caseExact ? sql`${operand}` : sql`lower(${operand})`;
  return sql<SqlBool>`(${left} ${ORDER_SQL[op]} ${right})`;
}

function compareColumn(
  def: ColumnDef,
  op: ValueOp,
  value: FilterValue,
  attribute: AttributeRef,
): Predicate {
  const c = def.expr;
  switch (def.kind) {
    case 'key': {
      const key = identityKey(asText(value, attribute));
      if (op === 'co' || op === 'sw' || op === 'ew')
        return sql<SqlBool>`(${c} like ${likePattern(op, key)})`;
      return sql<SqlBool>`(${c} ${ORDER_SQL[op]} ${key})`;
    }
    case 'text':
      return compareText(c, def.caseExact, op, asText(value, attribute));
    case 'uuid': {
      const text = asText(value, attribute);
      if (op === 'eq') return isUuid(text) ? sql<SqlBool>`(${c} = ${text}::uuid)` : FALSE;
      return compareText(sql`${c}::text`, true, op, text);
    }
    case 'timestamptz': {
      if (op === 'co' || op === 'sw' || op === 'ew') throw unsupported(op, attribute);
      return sql<SqlBool>`(${c} ${ORDER_SQL[op]} ${asDateTime(value, attribute)}::timestamptz)`;
    }
    case 'boolean':
      if (op !== 'eq') throw unsupported(op, attribute);
      return sql<SqlBool>`(${c} = ${asBoolean(value, attribute)})`;
  }
}

function compareJson(
  operand: Extract<Operand, { kind: 'json' }>,
  op: ValueOp,
  value: FilterValue,
  attribute: AttributeRef,
): Predicate {
  const j = operand.json;
  switch (operand.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (operand.type === 'binary' && op !== 'eq') throw unsupported(op, attribute);
      return compareText(sql`(${j} #>> '{}')`, operand.caseExact, op, asText(value, attribute));
    case 'boolean':
      if (op !== 'eq') throw unsupported(op, attribute);
      return sql<SqlBool>`(${j} = to_jsonb(${asBoolean(value, attribute)}::boolean))`;
    case 'decimal':
    case 'integer': {
      if (op === 'co' || op === 'sw' || op === 'ew') throw unsupported(op, attribute);
      return sql<SqlBool>`(${jsonNumber(j)} ${ORDER_SQL[op]} ${asNumber(value, attribute)}::numeric)`;
    }
    case 'dateTime': {
      if (op === 'co' || op === 'sw' || op === 'ew') throw unsupported(op, attribute);
      return sql<SqlBool>`(${jsonDateTime(j)} ${ORDER_SQL[op]} ${asDateTime(value, attribute)}::timestamptz)`;
    }
  }
}

const jsonNumber = (j: Sql): Sql =>
  sql`(case when jsonb_typeof(${j}) = 'number' then (${j} #>> '{}')::numeric end)`;
/** Values were validated as dateTime when written (the SCIM schema); a string is cast as such. */
const jsonDateTime = (j: Sql): Sql =>
  sql`(case when jsonb_typeof(${j}) = 'string' then (${j} #>> '{}')::timestamptz end)`;
const jsonBoolean = (j: Sql): Sql =>
  sql`(case when jsonb_typeof(${j}) = 'boolean' then (${j} #>> '{}')::boolean end)`;

/** The SQL type a sort key is cast back to when a cursor is decoded. */
export type SortKeyType = 'text' | 'uuid' | 'timestamptz' | 'boolean' | 'numeric';

/** What a list is ordered by: the same normalisation as comparisons (caseless text lowered). */
export function sortExpression(
  attribute: AttributeRef,
  resource: SearchResource,
  tenantId: string,
): { expr: Sql; type: SortKeyType } {
  if (attribute.multiValued) return primaryValueSort(attribute, resource);
  const operand = resolveOperand(attribute, { resource, tenantId });
  if (operand.kind === 'column') {
    const { expr: c, kind, caseExact } = operand.def;
    if (kind === 'text') return { expr: caseExact ? c : sql`lower(${c})`, type: 'text' };
    return { expr: c, type: kind === 'key' ? 'text' : kind };
  }
  const j = operand.json;
  switch (operand.type) {
    case 'boolean':
      return { expr: jsonBoolean(j), type: 'boolean' };
    case 'decimal':
    case 'integer':
      return { expr: jsonNumber(j), type: 'numeric' };
    case 'dateTime':
      return { expr: jsonDateTime(j), type: 'timestamptz' };
    case 'string':
    case 'reference':
    case 'binary': {
      const text = sql`(${j} #>> '{}')`;
      return { expr: operand.caseExact ? text : sql`lower(${text})`, type: 'text' };
    }
  }
}

/**
 * RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, or else its first.
 * A user's emails are rows; any other multi-valued attribute is read from the stored resource.
 */
function primaryValueSort(
  attribute: AttributeRef,
  resource: SearchResource,
): { expr: Sql; type: SortKeyType } {
  const [name, sub = 'value'] = attribute.path;
  if (resource === 'User' && attribute.schema === '' && name === 'emails' && sub === 'value') {
    return {
      expr: sql`(select e.value_key from user_emails e where e.user_id = users.id order by e.is_primary desc, e.position limit 1)`,
      type: 'text',
    };
  }
  const list = jsonField(jsonDocument(resource, attribute.schema), name);
  const text = sql`(x.v -> ${sub}::text) #>> '{}'`;
  return {
    expr: sql`(select ${attribute.caseExact ? text : sql`lower(${text})`} from jsonb_array_elements(case when jsonb_typeof(${list}) = 'array' then ${list} else '[]'::jsonb end) with ordinality as x(v, n) order by (x.v -> 'primary') = 'true'::jsonb desc nulls last, x.n limit 1)`,
    type: 'text',
  };
}
