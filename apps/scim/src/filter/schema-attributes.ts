// Attribute paths resolved against scimmy's schema definitions (RFC 7643): canonical spelling,
// type, case-exactness, multi-valuedness. Names are case-insensitive (RFC 7644 §3.10); a path
// may be qualified by its schema URN, which itself contains dots ("2.0") and is never split.
import SCIMMY from 'scimmy';
import type { AttributeRef, AttributeType } from '@roster/core';

export type ResourceType = 'User' | 'Group';

/** What this module reads of a scimmy Attribute. */
export interface SchemaAttribute {
  readonly name: string;
  readonly type: string;
  readonly config: { readonly multiValued: boolean; readonly caseExact: boolean };
  readonly subAttributes?: readonly SchemaAttribute[];
}

interface SchemaDefinitionLike {
  readonly id: string;
  readonly attributes: readonly SchemaAttribute[];
}

interface SchemaOfResource {
  /** The URN, and '' in refs for the core schema. */
  readonly id: string;
  readonly core: boolean;
  readonly attributes: readonly SchemaAttribute[];
}

/** Attributes every schema definition of scimmy repeats; they belong to the core schema only. */
const COMMON = new Set(['schemas', 'id', 'externalId', 'meta']);

function schemaOf(definition: SchemaDefinitionLike, core: boolean): SchemaOfResource {
  return {
    id: definition.id,
    core,
    attributes: core
      ? definition.attributes
      : definition.attributes.filter((a) => !COMMON.has(a.name)),
  };
}

let cache: Readonly<Record<ResourceType, readonly SchemaOfResource[]>> | undefined;
/** The schemas of each resource type, the longest URN first (so a prefix never shadows). */
export function schemasOf(resourceType: ResourceType): readonly SchemaOfResource[] {
  cache ??= {
    User: [
      schemaOf(SCIMMY.Schemas.EnterpriseUser.definition as unknown as SchemaDefinitionLike, false),
      schemaOf(SCIMMY.Schemas.User.definition as unknown as SchemaDefinitionLike, true),
    ],
    Group: [schemaOf(SCIMMY.Schemas.Group.definition as unknown as SchemaDefinitionLike, true)],
  };
  return cache[resourceType];
}

const TYPES = new Set<string>([
  'string',
  'boolean',
  'decimal',
  'integer',
  'dateTime',
  'reference',
  'binary',
]);
export const isSimpleType = (type: string): type is AttributeType => TYPES.has(type);

const findIn = (attributes: readonly SchemaAttribute[] | undefined, name: string) =>
  attributes?.find((a) => a.name.toLowerCase() === name.toLowerCase());

/** A path resolved to its schema and (for complex attributes) sub-attribute. */
export interface ResolvedPath {
  /** The URN of the schema ('' in AttributeRef when it is the core schema). */
  readonly schema: string;
  readonly core: boolean;
  readonly attribute: SchemaAttribute;
  readonly subAttribute?: SchemaAttribute;
}

/**
 * Resolves `userName`, `name.givenName`, `urn:…:User:userName`, `urn:…:enterprise:2.0:User:manager.value`.
 * Returns undefined when nothing of that name exists.
 */
export function resolvePath(resourceType: ResourceType, path: string): ResolvedPath | undefined {
  let schema: SchemaOfResource | undefined;
  let rest = path;
  if (/^urn:/i.test(path)) {
    schema = schemasOf(resourceType).find((s) =>
      path.toLowerCase().startsWith(`${s.id.toLowerCase()}:`),
    );
    if (!schema) return undefined;
    rest = path.slice(schema.id.length + 1);
  } else {
    schema = schemasOf(resourceType).find((s) => s.core);
  }
  if (!schema) return undefined;
  const segments = rest.split('.');
  if (segments.length > 2 || segments.some((s) => s === '')) return undefined;
  const attribute = findIn(schema.attributes, segments[0] ?? '');
  if (!attribute) return undefined;
  if (segments[1] === undefined) return { schema: schema.id, core: schema.core, attribute };
  const subAttribute = findIn(attribute.subAttributes, segments[1]);
  if (!subAttribute) return undefined;
  return { schema: schema.id, core: schema.core, attribute, subAttribute };
}

/** The canonical dotted path (URN-qualified for an extension), as scimmy's projection takes it. */
export function canonicalPath(resolved: ResolvedPath): string {
  const local = resolved.subAttribute
    ? `${resolved.attribute.name}.${resolved.subAttribute.name}`
    : resolved.attribute.name;
  return resolved.core ? local : `${resolved.schema}:${local}`;
}

/** The AttributeRef of a resolved simple attribute (or sub-attribute). */
export function toAttributeRef(resolved: ResolvedPath): AttributeRef | undefined {
  const last = resolved.subAttribute ?? resolved.attribute;
  if (!isSimpleType(last.type)) return undefined;
  return {
    schema: resolved.core ? '' : resolved.schema,
    path: resolved.subAttribute
      ? [resolved.attribute.name, resolved.subAttribute.name]
      : [resolved.attribute.name],
    type: last.type,
    caseExact: last.config.caseExact,
    multiValued: resolved.attribute.config.multiValued,
  };
}
