import SCIMMY from 'scimmy';
import { ScimError } from '../errors/scim-error.js';
import type { PatchResourceType } from './patch-types.js';
import { definitionOf, findAttribute } from './scim-resources.js';

/**
 * An RFC 7644 §3.10 attribute path, split into its parts:
 * `[schemaUrn ":"] attribute ["[" filter "]"] ["." subAttribute]`.
 * The schema URN is matched against the declared schema ids, never split on dots: the enterprise
 * URN contains "2.0" (Entra ID's manager path, test/interop/fixtures/entra.ts).
 */
export interface PatchPath {
  /** The declared schema id the path starts with (core or extension), as declared. */
  readonly schemaUrn: string | undefined;
  /** The top-level attribute; undefined when the path is an extension URN alone. */
  readonly attribute: string | undefined;
  /** The value filter between the brackets, without them. */
  readonly filter: string | undefined;
  readonly subAttribute: string | undefined;
}

/** A path resolved against the resource type's schema definition. */
export interface ResolvedPath extends PatchPath {
  readonly text: string;
  /** The attribute (or extension, for a URN alone) the path names, sub-attribute included. */
  readonly target: SCIMMY.Types.Attribute | SCIMMY.Types.SchemaDefinition;
  /** The top-level attribute (or extension); the same as `target` without a sub-attribute. */
  readonly top: SCIMMY.Types.Attribute | SCIMMY.Types.SchemaDefinition;
}

const NAME = '[A-Za-z$][\\w$-]*';
// Greedy brackets: the filter runs to the last "]" before an optional ".subAttribute".
const ATTRIBUTE_PATH = new RegExp(`^(${NAME})(?:\\[(.+)\\])?(?:\\.(${NAME}))?$`, 's');

const invalidPath = (path: string, why: string): ScimError =>
  new ScimError(400, `Invalid path '${path}': ${why}`, 'invalidPath');

/** The schema ids a path of this resource type may start with. */
function schemaIdsOf(resourceType: PatchResourceType): string[] {
  const definition = definitionOf(resourceType);
  return [
    definition.id,
    // scimmy keeps declared extensions among the attributes (SchemaDefinition.extend).
    ...(definition.attributes as unknown[])
      .filter((a): a is SCIMMY.Types.SchemaDefinition => a instanceof SCIMMY.Types.SchemaDefinition)
      .map((d) => d.id),
  ];
}

/** Splits a path into its parts (URN-aware); a malformed path is 400 invalidPath. */
export function parsePatchPath(path: string, resourceType: PatchResourceType): PatchPath {
  let rest = path.trim();
  let schemaUrn: string | undefined;
  if (rest.toLowerCase().startsWith('urn:')) {
    const lower = rest.toLowerCase();
    schemaUrn = schemaIdsOf(resourceType).find(
      (id) => lower === id.toLowerCase() || lower.startsWith(`${id.toLowerCase()}:`),
    );
    if (schemaUrn === undefined) throw invalidPath(path, 'unknown schema URN');
    rest = rest.slice(schemaUrn.length + 1);
    if (rest === '') {
      if (schemaUrn === definitionOf(resourceType).id) throw invalidPath(path, 'no attribute');
      return { schemaUrn, attribute: undefined, filter: undefined, subAttribute: undefined };
    }
  }
  const match = ATTRIBUTE_PATH.exec(rest);
  if (!match) throw invalidPath(path, 'not an attribute path (RFC 7644 §3.10)');
  const [, attribute, filter, subAttribute] = match;
  if (filter !== undefined) {
    let parsed: unknown;
    try {
      parsed = new SCIMMY.Types.Filter(filter);
    } catch (error) {
      throw invalidPath(path, `bad value filter (${(error as Error).message})`);
    }
    // scimmy 1.3.5 accepts a comparison without a value, and some garbage.
    if (hasMalformedComparison(parsed))
      throw invalidPath(path, 'a comparison in the filter is malformed');
  }
  return { schemaUrn, attribute, filter, subAttribute };
}

/** Writes a parsed path back as text. */
export function formatPatchPath(path: PatchPath): string {
  const head = path.schemaUrn === undefined ? '' : path.schemaUrn;
  if (path.attribute === undefined) return head;
  return (
    (head === '' ? '' : `${head}:`) +
    path.attribute +
    (path.filter === undefined ? '' : `[${path.filter}]`) +
    (path.subAttribute === undefined ? '' : `.${path.subAttribute}`)
  );
}

/**
 * Parses and resolves a path against the schema; an attribute the schema does not declare, or a
 * filter on an attribute that is not multi-valued and complex, is 400 invalidPath.
 */
export function resolvePatchPath(path: string, resourceType: PatchResourceType): ResolvedPath {
  const parsed = parsePatchPath(path, resourceType);
  const definition = definitionOf(resourceType);
  const prefix = parsed.schemaUrn === undefined ? '' : `${parsed.schemaUrn}:`;
  const topName =
    parsed.attribute === undefined ? (parsed.schemaUrn ?? '') : prefix + parsed.attribute;
  const top = findAttribute(definition, topName);
  if (top === undefined) throw invalidPath(path, 'no such attribute');
  const target =
    parsed.subAttribute === undefined
      ? top
      : findAttribute(definition, `${topName}.${parsed.subAttribute}`);
  if (target === undefined) throw invalidPath(path, 'no such sub-attribute');
  if (
    parsed.filter !== undefined &&
    !(
      top instanceof SCIMMY.Types.Attribute &&
      top.type === 'complex' &&
      top.config.multiValued === true
    )
  ) {
    throw invalidPath(path, 'a value filter needs a multi-valued complex attribute');
  }
  return { ...parsed, text: path, target, top };
}

/** Whether the resolved target is a boolean attribute. */
export const isBooleanAttribute = (node: unknown): node is SCIMMY.Types.Attribute =>
  node instanceof SCIMMY.Types.Attribute && node.type === 'boolean';

/** Whether the node is a single-valued complex attribute, or a whole schema extension. */
export const isSingleComplex = (node: unknown): boolean =>
  node instanceof SCIMMY.Types.SchemaDefinition ||
  (node instanceof SCIMMY.Types.Attribute &&
    node.type === 'complex' &&
    node.config.multiValued !== true);

const COMPARISONS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le'];

/**
 * Whether a parsed scimmy filter holds a comparison that is not `<operator> <value>` or `pr`/`np`
 * (scimmy parses `type eq` as a comparison with no value, and `type eq "a" "b"` as garbage).
 */
function hasMalformedComparison(node: unknown): boolean {
  if (Array.isArray(node)) {
    const items = node as unknown[];
    if (typeof items[0] === 'string') {
      const comparison = items[0] === 'not' ? items.slice(1) : items;
      const [operator] = comparison;
      if (operator === 'pr' || operator === 'np') return comparison.length !== 1;
      return !COMPARISONS.includes(String(operator)) || comparison.length !== 2;
    }
    return items.some(hasMalformedComparison);
  }
  if (typeof node === 'object' && node !== null)
    return Object.values(node).some(hasMalformedComparison);
  return false;
}
