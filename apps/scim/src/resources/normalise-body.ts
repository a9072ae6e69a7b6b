// What IdPs send in POST and PUT bodies that scimmy would refuse, made standard in one visible
// step before scimmy coerces the body; each rewrite is reported so the route can log it.
import { convertBooleans, isPlainObject } from '../patch/normalise-patch-request.js';
import { definitionOf } from '../patch/scim-resources.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../scim-config.js';

type Json = Record<string, unknown>;

/** Pre-RFC schema URNs OneLogin still sends (authentik#11249), and what they mean now. */
const LEGACY_SCHEMAS: Readonly<Record<string, { User: string; Group: string }>> = {
  'urn:scim:schemas:core:2.0': { User: USER_SCHEMA, Group: GROUP_SCHEMA },
  'urn:scim:schemas:extension:enterprise:2.0': {
    User: ENTERPRISE_USER_SCHEMA,
    Group: ENTERPRISE_USER_SCHEMA,
  },
};

/** RFC 7643 §2.5: null means "no value"; scimmy rejects a null collection, so it is left out. */
function withoutNulls(object: Json, path: string, quirks: string[]): Json {
  const kept: Json = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === null) {
      quirks.push(`'${path}${key}': null read as no value (RFC 7643 §2.5)`);
      continue;
    }
    kept[key] =
      key.startsWith('urn:') && isPlainObject(value)
        ? withoutNulls(value, `${key}:`, quirks)
        : value;
  }
  return kept;
}

/**
 * The body with legacy schema URNs renamed, nulls left out, "True"/"False" read as booleans where
 * the schema says boolean (OneLogin's templates render `active` as a string), and an enterprise
 * `manager` sent as a bare id wrapped as `{ value }` (Entra ID).
 */
export function normaliseResourceBody(
  body: Json,
  resourceType: 'User' | 'Group',
): { body: Json; quirks: string[] } {
  const quirks: string[] = [];
  let result: Json = { ...body };
  if (Array.isArray(result.schemas)) {
    result.schemas = result.schemas.map((schema: unknown) => {
      const modern =
        typeof schema === 'string' ? LEGACY_SCHEMAS[schema]?.[resourceType] : undefined;
      if (modern === undefined) return schema;
      quirks.push(`schema '${String(schema)}' read as '${modern}' (OneLogin)`);
      if (isPlainObject(result[String(schema)])) {
        result[modern] = result[String(schema)];
        delete result[String(schema)];
      }
      return modern;
    });
  }
  result = withoutNulls(result, '', quirks);
  const converted: string[] = [];
  result = convertBooleans(definitionOf(resourceType), result, resourceType, converted) as Json;
  for (const name of converted) quirks.push(`string boolean for '${name}' read as a boolean`);
  const enterprise = result[ENTERPRISE_USER_SCHEMA];
  if (
    resourceType === 'User' &&
    isPlainObject(enterprise) &&
    typeof enterprise.manager === 'string'
  ) {
    result[ENTERPRISE_USER_SCHEMA] = { ...enterprise, manager: { value: enterprise.manager } };
    quirks.push('enterprise manager sent as a bare id read as { value } (Entra ID)');
  }
  return { body: result, quirks };
}
