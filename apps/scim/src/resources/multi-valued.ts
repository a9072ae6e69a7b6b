// Rules of multi-valued attributes (RFC 7643 §2.4) that scimmy's coercion does not enforce,
// checked on every representation before it is written: POST, PUT and the result of a PATCH.
import SCIMMY from 'scimmy';
import { ScimError } from '../errors/scim-error.js';
import { isPlainObject } from '../patch/normalise-patch-request.js';
import { definitionOf } from '../patch/scim-resources.js';

type Json = Record<string, unknown>;
type ResourceType = 'User' | 'Group';

interface MultiValued {
  /** Where the values are: the representation itself, or an extension's URN key. */
  readonly extension: string | undefined;
  readonly name: string;
  /** Whether the attribute has a `value` sub-attribute, which each value must then carry. */
  readonly hasValue: boolean;
}

/** The multi-valued complex attributes a client writes (readOnly ones, such as groups, aside). */
function multiValuedOf(type: ResourceType): MultiValued[] {
  const definition = definitionOf(type);
  const found: MultiValued[] = [];
  const visit = (attributes: readonly unknown[], extension: string | undefined) => {
    for (const attribute of attributes) {
      if (attribute instanceof SCIMMY.Types.SchemaDefinition)
        visit(attribute.attributes, attribute.id);
      else if (
        attribute instanceof SCIMMY.Types.Attribute &&
        attribute.type === 'complex' &&
        attribute.config.multiValued === true &&
        attribute.config.mutable !== false &&
        // Group members are rows, checked by their own code.
        !(type === 'Group' && attribute.name === 'members')
      )
        found.push({
          extension,
          name: attribute.name,
          hasValue: (attribute.subAttributes ?? []).some((sub) => sub.name === 'value'),
        });
    }
  };
  visit(definition.attributes, undefined);
  return found;
}

function valuesOf(representation: Json, attribute: MultiValued): Json[] {
  const owner =
    attribute.extension === undefined ? representation : representation[attribute.extension];
  const values = isPlainObject(owner) ? owner[attribute.name] : undefined;
  return Array.isArray(values) ? values.filter(isPlainObject) : [];
}

const label = (attribute: MultiValued) =>
  attribute.extension === undefined ? attribute.name : `${attribute.extension}:${attribute.name}`;

/**
 * Each value of a multi-valued attribute with a `value` sub-attribute carries one, and at most
 * one value is `primary: true` (RFC 7643 §2.4); else 400 invalidValue naming the attribute.
 */
export function checkMultiValuedAttributes(type: ResourceType, representation: Json): void {
  for (const attribute of multiValuedOf(type)) {
    const values = valuesOf(representation, attribute);
    values.forEach((value, index) => {
      if (attribute.hasValue && (value.value === undefined || value.value === null))
        throw new ScimError(
          400,
          `${label(attribute)}[${index}] has no 'value' (RFC 7643 §2.4)`,
          'invalidValue',
        );
    });
    const primaries = values.filter((value) => value.primary === true).length;
    if (primaries > 1)
      throw new ScimError(
        400,
        `${label(attribute)} has ${primaries} values with primary true; at most one may be primary (RFC 7643 §2.4)`,
        'invalidValue',
      );
  }
}

/** A value's identity apart from its `primary` flag. */
const identityOf = (value: Json) => {
  const { primary: _primary, ...rest } = value;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
};

/**
 * RFC 7644 §3.5.2: a PATCH that makes a value primary makes the others not primary. Values that
 * were primary before the PATCH lose the flag when exactly one value became primary; two new
 * primaries are left for {@link checkMultiValuedAttributes} to refuse. Changes `patched` in place.
 */
export function settlePrimaries(type: ResourceType, before: Json, patched: Json): void {
  for (const attribute of multiValuedOf(type)) {
    const wasPrimary = new Set(
      valuesOf(before, attribute)
        .filter((value) => value.primary === true)
        .map(identityOf),
    );
    const values = valuesOf(patched, attribute);
    const primaries = values.filter((value) => value.primary === true);
    const newlyPrimary = primaries.filter((value) => !wasPrimary.has(identityOf(value)));
    if (newlyPrimary.length !== 1 || primaries.length < 2) continue;
    for (const value of primaries) if (value !== newlyPrimary[0]) delete value.primary;
  }
}
