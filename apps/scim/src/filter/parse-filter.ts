// SCIM filter text (RFC 7644 §3.4.2.2) -> core's Filter, every attribute resolved against the
// schemas. scim2-parse-filter does the grammar (it gets `not (…)`, nesting, escaped quotes and
// valuePaths right; scimmy 1.3.5's parser reads `not (a or b)` wrongly, rejects escaped quotes and
// nested parentheses, and accepts `userName eq`); this module does the meaning.
import { parse, type Filter as ParsedFilter, type ValuePath } from 'scim2-parse-filter';
import {
  readTimestamp,
  type AttributeRef,
  type Filter,
  type FilterOperator,
  type FilterValue,
} from '@roster/core';
import { ScimError } from '../errors/scim-error.js';
import {
  canonicalPath,
  resolvePath,
  toAttributeRef,
  type ResolvedPath,
  type ResourceType,
  type SchemaAttribute,
} from './schema-attributes.js';

/** Longest filter accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;
/** Most comparisons one filter may hold (each becomes SQL). */
export const MAX_FILTER_COMPARISONS = 100;
/**
 * Deepest nesting of parentheses and value filters (`not (…)`, `emails[…]`). Real filters nest a
 * few levels; each level is recursion in the parser, the translation and PostgreSQL's planner.
 */
export const MAX_FILTER_DEPTH = 16;

const invalidFilter = (detail: string) => new ScimError(400, detail, 'invalidFilter');

/**
 * Attributes that exist in the schema but cannot be filtered on: they are computed per response
 * (meta.location, meta.resourceType, meta.version), never returned (password), or not data.
 */
const NOT_FILTERABLE = new Set([
  'schemas',
  'password',
  'meta.location',
  'meta.resourceType',
  'meta.version',
  'groups.$ref',
  'members.$ref',
]);

/**
 * Parses a SCIM filter for Users or Groups into core's Filter. Anything wrong (syntax, unknown
 * attribute, a comparison the attribute's type does not allow, a missing value) is a 400 with
 * scimType invalidFilter and a detail naming the problem.
 *
 * @example
 * parseScimFilter('emails[type eq "work" and value co "@example.com"]', 'User');
 */
export function parseScimFilter(expression: string, resourceType: ResourceType): Filter {
  if (expression.trim() === '') throw invalidFilter('the filter is empty');
  if (expression.length > MAX_FILTER_LENGTH)
    throw invalidFilter(`the filter is longer than ${MAX_FILTER_LENGTH} characters`);
  if (nestingDepth(expression) > MAX_FILTER_DEPTH)
    throw invalidFilter(
      `the filter nests parentheses or value filters deeper than ${MAX_FILTER_DEPTH} levels (the filter depth limit)`,
    );
  let parsed: ParsedFilter;
  try {
    parsed = parse(attachValuePathSubAttributes(expression));
  } catch (error) {
    throw invalidFilter(`the filter is not valid SCIM filter syntax (${(error as Error).message})`);
  }
  const counter = { comparisons: 0 };
  return translate(parsed, { resourceType, counter });
}

/** The deepest nesting of `(` and `[` outside quoted strings (unbalanced text is the parser's to refuse). */
function nestingDepth(expression: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '"') i = skipString(expression, i);
    else if (c === '(' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === ')' || c === ']') depth -= 1;
  }
  return deepest;
}

interface Scope {
  readonly resourceType: ResourceType;
  readonly counter: { comparisons: number };
  /** Inside a valuePath: the complex attribute whose sub-attributes are named. */
  readonly within?: ResolvedPath;
}

function translate(node: ParsedFilter, scope: Scope): Filter {
  switch (node.op) {
    case 'and':
    case 'or':
      return { kind: node.op, filters: node.filters.map((f) => translate(f, scope)) };
    case 'not':
      return { kind: 'not', filter: translate(node.filter, scope) };
    case '[]':
      return translateValuePath(node, scope);
    case 'pr':
      return { kind: 'compare', attribute: comparable(node.attrPath, scope), op: 'pr' };
    case 'eq':
    case 'ne':
    case 'co':
    case 'sw':
    case 'ew':
    case 'gt':
    case 'lt':
    case 'ge':
    case 'le': {
      const attribute = comparable(node.attrPath, scope);
      const value = checkValue(attribute, node.op, decodeEscapes(node.compValue));
      return { kind: 'compare', attribute, op: node.op, value };
    }
  }
}

function translateValuePath(node: ValuePath, scope: Scope): Filter {
  if (scope.within)
    throw invalidFilter(`a value filter cannot be nested in another (${node.attrPath}[…])`);
  const resolved = resolvePath(scope.resourceType, node.attrPath);
  if (!resolved || resolved.subAttribute)
    throw invalidFilter(`unknown complex attribute ${node.attrPath}`);
  if (resolved.attribute.type !== 'complex')
    throw invalidFilter(`${node.attrPath} is not complex: it has no [value filter]`);
  const inner = translate(node.valFilter, { ...scope, within: resolved });
  // On a singular complex attribute (name[givenName eq "x"]) the conditions are plain ones.
  if (!resolved.attribute.config.multiValued) return inner;
  return {
    kind: 'element',
    attribute: resolved.attribute.name,
    schema: resolved.core ? '' : resolved.schema,
    filter: inner,
  };
}

/** Counts the comparison against the limit and resolves its attribute. */
function comparable(path: string, scope: Scope): AttributeRef {
  scope.counter.comparisons += 1;
  if (scope.counter.comparisons > MAX_FILTER_COMPARISONS)
    throw invalidFilter(`the filter has more than ${MAX_FILTER_COMPARISONS} comparisons`);
  return resolveComparable(path, scope);
}

/** The simple attribute a comparison names (a complex one without sub-attribute means `.value`). */
function resolveComparable(path: string, scope: Scope): AttributeRef {
  let resolved: ResolvedPath | undefined;
  if (scope.within) {
    const sub = findSub(scope.within.attribute, path);
    if (!sub) throw invalidFilter(`${scope.within.attribute.name} has no sub-attribute ${path}`);
    resolved = { ...scope.within, subAttribute: sub };
  } else {
    resolved = resolvePath(scope.resourceType, path);
    if (!resolved) throw invalidFilter(`unknown attribute ${path}`);
    // RFC 7644 §3.4.2.2: a complex attribute compared as a whole means its "value" sub-attribute
    if (resolved.attribute.type === 'complex' && !resolved.subAttribute) {
      const value = findSub(resolved.attribute, 'value');
      if (!value)
        throw invalidFilter(
          `${resolved.attribute.name} is complex: compare one of its sub-attributes`,
        );
      resolved = { ...resolved, subAttribute: value };
    }
  }
  const name = canonicalPath(resolved);
  if (NOT_FILTERABLE.has(name)) throw invalidFilter(`${name} cannot be filtered on`);
  const attribute = toAttributeRef(resolved);
  if (!attribute) throw invalidFilter(`${name} is complex: compare one of its sub-attributes`);
  return attribute;
}

const findSub = (attribute: SchemaAttribute, name: string) =>
  attribute.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase());

const ORDERING = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING = new Set(['co', 'sw', 'ew']);

/** Which operators and values each type takes (RFC 7644 §3.4.2.2); the value, normalised. */
function checkValue(
  attribute: AttributeRef,
  op: Exclude<FilterOperator, 'pr'>,
  value: FilterValue | undefined,
): FilterValue {
  const name = attribute.path.join('.');
  if (value === undefined) throw invalidFilter(`${op} on ${name} needs a value`);
  if (value === null) {
    if (op === 'eq' || op === 'ne') return null;
    throw invalidFilter(`${op} on ${name} cannot compare with null`);
  }
  switch (attribute.type) {
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${op} cannot compare boolean ${name}`);
      // Some clients quote booleans ("True"); the meaning is unambiguous.
      if (typeof value === 'string' && /^(true|false)$/i.test(value))
        return value.toLowerCase() === 'true';
      if (typeof value !== 'boolean') throw invalidFilter(`${name} is compared with true or false`);
      return value;
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING.has(op)) throw invalidFilter(`${op} cannot compare number ${name}`);
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number))
        throw invalidFilter(`${name} is compared with a number`);
      if (attribute.type === 'integer' && !Number.isInteger(number) && op === 'eq')
        throw invalidFilter(`${name} is an integer`);
      return number;
    }
    case 'dateTime': {
      if (SUBSTRING.has(op)) throw invalidFilter(`${op} cannot compare dateTime ${name}`);
      // One strict reading (core's): Date.parse takes February 30th and year 0, PostgreSQL does not.
      if (typeof value !== 'string' || readTimestamp(value) === undefined)
        throw invalidFilter(
          `${name} is compared with "${String(value).slice(0, 64)}", which is not an RFC 3339 date-time that exists`,
        );
      return value;
    }
    case 'binary':
      if (ORDERING.has(op) || SUBSTRING.has(op))
        throw invalidFilter(`${op} cannot compare binary ${name}`);
      if (typeof value !== 'string') throw invalidFilter(`${name} is compared with a string`);
      return value;
    case 'string':
    case 'reference':
      if (typeof value === 'boolean') throw invalidFilter(`${name} is compared with a string`);
      return String(value);
  }
}

/**
 * Entra ID sends `emails[type eq "work"].value eq "x"`, which RFC 7644's grammar does not have
 * (a valuePath ends at "]"). It means one element whose type is work and whose value is x, so
 * it is rewritten to `emails[(type eq "work") and value eq "x"]` before parsing. Quoted strings
 * are skipped, so a "]." inside a value is left alone.
 */
export function attachValuePathSubAttributes(expression: string): string {
  let text = expression;
  for (let guard = 0; guard < 100; guard++) {
    const match = findValuePathSuffix(text);
    if (!match) return text;
    const { open, close, end, comparison } = match;
    text = `${text.slice(0, open + 1)}(${text.slice(open + 1, close)}) and ${comparison}]${text.slice(end)}`;
  }
  return text;
}

function findValuePathSuffix(
  text: string,
): { open: number; close: number; end: number; comparison: string } | undefined {
  const opens: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if (c === '[') opens.push(i);
    if (c !== ']') continue;
    const open = opens.pop();
    const suffix = /^\.([A-Za-z$][\w$-]*)\s+([A-Za-z]{2})(?=[\s)]|$)/.exec(text.slice(i + 1));
    if (open === undefined || !suffix) continue;
    const [whole, sub, op] = suffix as unknown as [string, string, string];
    let end = i + 1 + whole.length;
    let value = '';
    if (op.toLowerCase() !== 'pr') {
      const start = end + (/^\s*/.exec(text.slice(end))?.[0].length ?? 0);
      const valueEnd = text[start] === '"' ? skipString(text, start) + 1 : tokenEnd(text, start);
      value = ` ${text.slice(start, valueEnd)}`;
      end = valueEnd;
    }
    return { open, close: i, end, comparison: `${sub} ${op}${value}` };
  }
  return undefined;
}

/** The index of the closing quote of the string starting at `start` (or the end of the text). */
function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

const tokenEnd = (text: string, start: number): number => {
  let i = start;
  while (i < text.length && !/[\s()[\]]/.test(text.charAt(i))) i++;
  return i;
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A filter's string is a JSON string (RFC 7644 §3.4.2.2, RFC 8259 §7): `\uXXXX`, `\\`, `\/`,
 * `\n`, … are decoded. scim2-parse-filter decodes `\"` only and keeps every other backslash as
 * written, so its string is put back in JSON form (quotes escaped again) and decoded whole.
 */
function decodeEscapes(value: FilterValue | undefined): FilterValue | undefined {
  if (typeof value !== 'string' || !value.includes('\\')) return value;
  const json = value
    .replace(/"/g, '\\"')
    // control characters written raw inside the quotes stay as they are
    .replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  let decoded: string;
  try {
    decoded = JSON.parse(`"${json}"`) as string;
  } catch {
    throw invalidFilter(
      `the string "${value}" has an escape JSON does not have (use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)`,
    );
  }
  // What an escape can spell but no stored text holds: U+0000, half of a surrogate pair.
  if (decoded.includes('\u0000') || LONE_SURROGATE.test(decoded))
    throw invalidFilter(`the string "${value}" escapes U+0000 or half a surrogate pair`);
  return decoded;
}
