import SCIMMY from 'scimmy';
import { ScimError } from '../errors/scim-error.js';
import {
  isBooleanAttribute,
  isSingleComplex,
  resolvePatchPath,
  formatPatchPath,
  type ResolvedPath,
} from './patch-path.js';
import {
  MAX_PATCH_OPERATIONS,
  PATCH_OP_SCHEMA,
  PATCH_OPS,
  type PatchOperation,
  type PatchOperationName,
  type PatchRequest,
  type PatchResourceType,
} from './patch-types.js';
import { ENTERPRISE_USER_SCHEMA } from '../scim-config.js';
import { definitionOf } from './scim-resources.js';

/**
 * The one visible normalisation step between an IdP's PATCH body and scimmy.
 *
 * It checks the RFC 7644 §3.5.2 envelope, then runs `NORMALISATION_RULES` in order. Each rule is
 * small and named after what it fixes; each quirk rule that changes something adds one line to
 * `quirks`, which the route logs (never attribute values: they may be personal data). Rules tagged
 * "RFC" make scimmy follow RFC 7644 where it does not, and log nothing.
 *
 * `current` is the stored SCIM representation (id, attributes, extension under its URN key); it is
 * read only, to tell an unchanged `id` (Okta) and whether a value filter matches (Entra ID).
 */
export function normalisePatchRequest(
  body: unknown,
  resourceType: PatchResourceType,
  current: Record<string, unknown>,
): { request: PatchRequest; quirks: string[] } {
  const quirks: string[] = [];
  const context: RuleContext = {
    resourceType,
    current,
    note: (operation, line) => quirks.push(`operation ${operation.number}: ${line}`),
    noteRequest: (line) => quirks.push(line),
    collections: new Map(),
  };
  let operations = readEnvelope(body, context);
  for (const rule of NORMALISATION_RULES) operations = rule(operations, context);
  return {
    request: { schemas: [PATCH_OP_SCHEMA], Operations: operations.map(toPatchOperation) },
    quirks,
  };
}

/** An operation on its way through the rules; `number` is its 1-based place in the body. */
interface WorkingOperation {
  readonly number: number;
  readonly op: PatchOperationName;
  readonly path: string | undefined;
  readonly value: unknown;
  /** The op as the IdP wrote it ("Replace"), for the log. */
  readonly sentOp: string;
}

interface RuleContext {
  readonly resourceType: PatchResourceType;
  readonly current: Record<string, unknown>;
  note(operation: WorkingOperation, line: string): void;
  noteRequest(line: string): void;
  /** Simulated multi-valued attributes, for `createMissingFilteredValues` (keyed by attribute). */
  readonly collections: Map<SCIMMY.Types.Attribute, Record<string, unknown>[]>;
}

type Rule = (operations: WorkingOperation[], context: RuleContext) => WorkingOperation[];

// ---------------------------------------------------------------------------------------------
// Envelope (RFC 7644 §3.5.2, §3.12)
// ---------------------------------------------------------------------------------------------

function readEnvelope(body: unknown, context: RuleContext): WorkingOperation[] {
  if (!isPlainObject(body)) {
    throw new ScimError(
      400,
      'A PATCH body must be a JSON object (RFC 7644 §3.5.2)',
      'invalidSyntax',
    );
  }
  const schemas = readKey(body, 'schemas');
  const isPatchOp = (s: unknown) =>
    typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.some(isPatchOp)) {
    throw new ScimError(400, `'schemas' must contain '${PATCH_OP_SCHEMA}'`, 'invalidSyntax');
  }
  if (schemas.length > 1)
    context.noteRequest(`ignored extra schema URIs next to '${PATCH_OP_SCHEMA}'`);

  const operations = readKey(body, 'Operations');
  if (operations === undefined)
    throw new ScimError(400, "'Operations' is required", 'invalidValue');
  if (!Array.isArray(operations))
    throw new ScimError(400, "'Operations' must be an array", 'invalidSyntax');
  if (operations.length === 0) {
    throw new ScimError(400, "'Operations' must hold at least one operation", 'invalidValue');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new ScimError(
      400,
      `'Operations' holds ${operations.length} operations; at most ${MAX_PATCH_OPERATIONS} are accepted`,
      'invalidValue',
    );
  }
  return operations.map((entry: unknown, index) => readOperation(entry, index + 1));
}

function readOperation(entry: unknown, number: number): WorkingOperation {
  const where = `operation ${number}`;
  if (!isPlainObject(entry))
    throw new ScimError(400, `${where} must be an object`, 'invalidSyntax');
  const op = readKey(entry, 'op');
  if (typeof op !== 'string' || !(PATCH_OPS as readonly string[]).includes(op.toLowerCase())) {
    throw new ScimError(400, `${where}: 'op' must be add, remove or replace`, 'invalidSyntax');
  }
  const rawPath = readKey(entry, 'path');
  // A null path is how some clients write "no path".
  if (
    rawPath !== undefined &&
    rawPath !== null &&
    (typeof rawPath !== 'string' || rawPath.trim() === '')
  ) {
    throw new ScimError(400, `${where}: 'path' must be a non-empty string`, 'invalidPath');
  }
  const path = typeof rawPath === 'string' ? rawPath.trim() : undefined;
  const value = readKey(entry, 'value');
  const name = op.toLowerCase() as PatchOperationName;
  if (name !== 'remove' && value === undefined) {
    throw new ScimError(400, `${where}: '${name}' needs a 'value'`, 'invalidValue');
  }
  // RFC 7644 §3.5.2.2: a remove without a path fails with noTarget.
  if (name === 'remove' && path === undefined) {
    throw new ScimError(400, `${where}: 'remove' needs a 'path'`, 'noTarget');
  }
  return { number, op: name, path, value, sentOp: op };
}

// ---------------------------------------------------------------------------------------------
// The rules, in the order they run
// ---------------------------------------------------------------------------------------------

/** Entra ID sends "Replace", "Add", "Remove"; ops are case-insensitive (Microsoft's own advice). */
const lowerCaseOps: Rule = (operations, context) => {
  for (const operation of operations) {
    if (operation.sentOp !== operation.op) {
      context.note(operation, `op '${operation.sentOp}' read as '${operation.op}' (Entra ID)`);
    }
  }
  return operations;
};

/**
 * A pathless add/replace (Okta deactivation, Okta/JumpCloud group renames, Entra ID's
 * multi-attribute replace) becomes one operation per key. RFC 7644 §3.5.2.3 says each key names an
 * attribute to replace; Entra ID's keys are paths ("name.givenName", full enterprise URNs), so each
 * key is read as a path. An echoed `schemas` key is dropped.
 */
const expandPathlessValues: Rule = (operations, context) =>
  operations.flatMap((operation) => {
    if (operation.path !== undefined || operation.op === 'remove') return [operation];
    if (!isPlainObject(operation.value)) {
      throw new ScimError(
        400,
        `operation ${operation.number}: without a 'path', 'value' must be an object of attributes`,
        'invalidValue',
      );
    }
    return Object.entries(operation.value).flatMap(([key, value]) => {
      if (key.toLowerCase() === 'schemas') {
        context.note(operation, "ignored 'schemas' inside a pathless value");
        return [];
      }
      if (/[.:[]/.test(key)) {
        context.note(operation, `pathless value key '${key}' read as a path (Entra ID)`);
      }
      return [{ ...operation, path: key, value }];
    });
  });

/**
 * RFC 7643 §2.5: null is "no value", so a replace with a null value is a remove of the path
 * (scimmy would otherwise skip it without a word). An add of null adds nothing and stays as sent.
 */
const nullValuesRemove: Rule = (operations) =>
  operations.map((operation) =>
    operation.path !== undefined && operation.op === 'replace' && operation.value === null
      ? { ...operation, op: 'remove', value: undefined }
      : operation,
  );

/** Okta (OIN apps) PATCHes `password`; Roster signs people in over SAML and keeps no password. */
const ignorePasswords: Rule = (operations, context) =>
  operations.filter((operation) => {
    const isPassword =
      context.resourceType === 'User' &&
      operation.path !== undefined &&
      /^(urn:ietf:params:scim:schemas:core:2\.0:user:)?password$/i.test(operation.path);
    if (isPassword) context.note(operation, "ignored 'password': Roster keeps no passwords (Okta)");
    return !isPassword;
  });

/**
 * RFC 7644 §3.10: every path must name an attribute of the schema (else 400 invalidPath). A path
 * prefixed with the core schema URN loses the prefix (scimmy cannot set such a path).
 */
const validatePaths: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined) return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    return path.schemaUrn === definitionOf(context.resourceType).id
      ? { ...operation, path: formatPatchPath({ ...path, schemaUrn: undefined }) }
      : operation;
  });

/**
 * `id` is read-only (RFC 7643 §3.1). Okta's group rename repeats the unchanged id in its value:
 * that is dropped. A different id, or any write to another read-only attribute (`meta`, a user's
 * `groups`), is 400 mutability.
 */
const guardReadOnly: Rule = (operations, context) =>
  operations.filter((operation) => {
    if (operation.path === undefined) return true;
    const path = resolvePatchPath(operation.path, context.resourceType);
    const isId = path.top instanceof SCIMMY.Types.Attribute && path.top.name === 'id';
    if (isId && operation.op !== 'remove' && operation.value === context.current.id) {
      context.note(operation, "ignored the unchanged 'id' in the value (Okta)");
      return false;
    }
    // `schemas` follows from the attributes the resource has (scimmy would skip the change).
    if (path.top instanceof SCIMMY.Types.Attribute && path.top.name === 'schemas')
      throw new ScimError(
        400,
        `operation ${operation.number}: 'schemas' follows from the attributes the resource has; change those instead`,
        'mutability',
      );
    const readOnly = (node: unknown) =>
      node instanceof SCIMMY.Types.Attribute && node.config.mutable === false;
    if (isId || readOnly(path.top) || readOnly(path.target)) {
      throw new ScimError(
        400,
        `operation ${operation.number}: '${operation.path}' is read-only`,
        'mutability',
      );
    }
    return true;
  });

/**
 * A user's `active` is its state, never absent: removing it (or setting it to null) would be a
 * change that does nothing, so it is 400 mutability with what to send instead.
 */
const refuseActiveRemoval: Rule = (operations, context) => {
  if (context.resourceType !== 'User') return operations;
  for (const operation of operations) {
    const clears = operation.op === 'remove' || operation.value === null;
    if (!clears || operation.path === undefined) continue;
    const path = resolvePatchPath(operation.path, context.resourceType);
    if (path.top instanceof SCIMMY.Types.Attribute && path.top.name === 'active')
      throw new ScimError(
        400,
        `operation ${operation.number}: 'active' cannot be removed; replace it with false to deactivate the user`,
        'mutability',
      );
  }
  return operations;
};

/**
 * An add or replace of a whole extension (path: its URN) may carry the extension's own
 * `schemas` in the value, as a client copies it from a resource; it names no attribute.
 */
const dropSchemasInExtensionValue: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined || operation.op === 'remove') return operation;
    if (!isPlainObject(operation.value)) return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    if (path.attribute !== undefined || !(path.top instanceof SCIMMY.Types.SchemaDefinition))
      return operation;
    const { kept, dropped } = withoutKey(operation.value, 'schemas');
    if (!dropped) return operation;
    context.note(operation, "ignored 'schemas' inside an extension's value");
    return { ...operation, value: kept };
  });

function withoutKey(
  object: Record<string, unknown>,
  name: string,
): { kept: Record<string, unknown>; dropped: boolean } {
  const kept: Record<string, unknown> = {};
  let dropped = false;
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === name.toLowerCase()) dropped = true;
    else kept[key] = value;
  }
  return { kept, dropped };
}

/** Entra ID sends the enterprise `manager` as the manager's id alone; it is a complex attribute. */
const wrapStringManager: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined || operation.op === 'remove') return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    if (path.schemaUrn !== ENTERPRISE_USER_SCHEMA) return operation;
    const wrap = (value: unknown) => {
      context.note(operation, "string 'manager' read as { value } (Entra ID)");
      return { value };
    };
    if (isManager(path.target) && typeof operation.value === 'string') {
      return { ...operation, value: wrap(operation.value) };
    }
    if (path.attribute === undefined && isPlainObject(operation.value)) {
      const value = Object.fromEntries(
        Object.entries(operation.value).map(([key, v]) =>
          key.toLowerCase() === 'manager' && typeof v === 'string' ? [key, wrap(v)] : [key, v],
        ),
      );
      return { ...operation, value };
    }
    return operation;
  });

/**
 * Entra ID without `?aadOptscim062020` sends booleans as "True"/"False". They become booleans only
 * where the schema says the attribute is boolean (`active`, `emails[].primary`, ...); a string
 * attribute keeps the string.
 */
const booleanStrings: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined || operation.op === 'remove') return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    const converted: string[] = [];
    const value = convertBooleans(path.target, operation.value, operation.path, converted);
    for (const name of converted) {
      context.note(operation, `string boolean for '${name}' read as a boolean (Entra ID)`);
    }
    return converted.length === 0 ? operation : { ...operation, value };
  });

/**
 * RFC 7644 §3.5.2.3 answers noTarget when a value filter matches nothing, but Entra ID sends
 * `add emails[type eq "work"].value` to create the work email. A filter that matches no value,
 * now or after the earlier operations of the same request, becomes an add of a new value built
 * from the filter's `eq` terms plus the sent value. Only `eq` terms joined by `and` can be; any
 * other filter that matches nothing is 400 noTarget. Group members are left to `splitGroupPatch`.
 */
const createMissingFilteredValues: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined) return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    const top = path.top;
    if (
      !(top instanceof SCIMMY.Types.Attribute) ||
      top.type !== 'complex' ||
      top.config.multiValued !== true
    ) {
      return operation;
    }
    if (context.resourceType === 'Group' && top.name === 'members') return operation;
    const collection = collectionOf(top, path, context);
    if (path.filter === undefined && operation.op === 'remove' && path.subAttribute !== undefined) {
      // RFC 7644 §3.5.2.2: `remove emails.type` removes `type` from every value; scimmy cannot
      // (it fails inside its proxy), so the values are replaced by the same values without it.
      const subAttribute = path.subAttribute.toLowerCase();
      const next = collection.map((element) =>
        Object.fromEntries(
          Object.entries(element).filter(([key]) => key.toLowerCase() !== subAttribute),
        ),
      );
      replaceContents(collection, next);
      const whole = formatPatchPath({ ...path, subAttribute: undefined });
      return next.length === 0
        ? { ...operation, path: whole }
        : { ...operation, op: 'replace', path: whole, value: structuredClone(next) };
    }
    if (path.filter === undefined) {
      simulateWholeCollection(operation, path, collection);
      return operation;
    }
    const matches = new Set(new SCIMMY.Types.Filter(path.filter).match(collection) as unknown[]);
    if (operation.op === 'remove') {
      if (path.subAttribute === undefined) {
        replaceContents(
          collection,
          collection.filter((element) => !matches.has(element)),
        );
      } else {
        for (const element of matches)
          delete (element as Record<string, unknown>)[path.subAttribute];
      }
      return operation;
    }
    if (matches.size > 0) {
      for (const element of matches) {
        applyToElement(element as Record<string, unknown>, operation, path);
      }
      return operation;
    }
    const element = { ...elementFromFilter(path, operation), ...sentPart(path, operation) };
    collection.push(element);
    context.note(
      operation,
      `'${operation.path}' matched no value, so a new '${top.name}' value is added (Entra ID)`,
    );
    return {
      ...operation,
      op: 'add',
      path: formatPatchPath({ ...path, filter: undefined, subAttribute: undefined }),
      value: [element],
    };
  });

/**
 * RFC 7644 §3.5.2.3: replacing a single-valued complex attribute (`name`, `manager`, the
 * enterprise extension) replaces the sub-attributes sent and leaves the others; scimmy would drop
 * the others. scimmy's merging `add` has the RFC meaning. A path to a sub-attribute of one
 * (`name.givenName`, `urn:…:User:manager.value`) becomes the same merging add, which also works
 * when the parent has no value yet (scimmy answers noTarget there).
 */
const mergeSingleComplexReplace: Rule = (operations, context) =>
  operations.map((operation) => {
    if (operation.path === undefined || operation.op === 'remove') return operation;
    const path = resolvePatchPath(operation.path, context.resourceType);
    if (path.filter !== undefined) return operation;
    if (path.subAttribute === undefined) {
      return operation.op === 'replace' &&
        isSingleComplex(path.top) &&
        isPlainObject(operation.value)
        ? { ...operation, op: 'add' }
        : operation;
    }
    if (!isSingleComplex(path.top)) return operation;
    return {
      ...operation,
      op: 'add',
      path: formatPatchPath({ ...path, subAttribute: undefined }),
      value: { [path.subAttribute]: operation.value },
    };
  });

/** RFC 7644 §3.5.2.2: removing an extension URN removes its attributes (scimmy fails on it). */
const expandExtensionRemove: Rule = (operations, context) =>
  operations.flatMap((operation) => {
    if (operation.op !== 'remove' || operation.path === undefined) return [operation];
    const path = resolvePatchPath(operation.path, context.resourceType);
    if (path.attribute !== undefined || !(path.top instanceof SCIMMY.Types.SchemaDefinition)) {
      return [operation];
    }
    const extension = path.top;
    return extension.attributes
      .filter((a) => a instanceof SCIMMY.Types.Attribute && a.config.shadow !== true)
      .map((a) => ({ ...operation, path: `${extension.id}:${a.name}` }));
  });

/** The normalisation pipeline, in order (see normalisePatchRequest). */
const NORMALISATION_RULES: readonly Rule[] = [
  lowerCaseOps,
  expandPathlessValues,
  nullValuesRemove,
  ignorePasswords,
  validatePaths,
  guardReadOnly,
  refuseActiveRemoval,
  dropSchemasInExtensionValue,
  wrapStringManager,
  booleanStrings,
  createMissingFilteredValues,
  mergeSingleComplexReplace,
  expandExtensionRemove,
];

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function toPatchOperation({ op, path, value }: WorkingOperation): PatchOperation {
  return { op, ...(path === undefined ? {} : { path }), ...(value === undefined ? {} : { value }) };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7643 §2.1: attribute names are case-insensitive, the envelope's included. */
function readKey(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

const isManager = (node: unknown) =>
  node instanceof SCIMMY.Types.Attribute && node.name === 'manager' && node.type === 'complex';

/** Walks a value along the schema, turning "true"/"false" (any case) into booleans where declared. */
export function convertBooleans(
  node: SCIMMY.Types.Attribute | SCIMMY.Types.SchemaDefinition,
  value: unknown,
  label: string,
  converted: string[],
): unknown {
  if (node instanceof SCIMMY.Types.SchemaDefinition) {
    if (!isPlainObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        const child = node.attributes.find(
          (a) => a instanceof SCIMMY.Types.Attribute && a.name.toLowerCase() === key.toLowerCase(),
        );
        return [key, child ? convertBooleans(child, v, `${label}:${key}`, converted) : v];
      }),
    );
  }
  if (node.config.multiValued === true && Array.isArray(value)) {
    return value.map((v: unknown) => convertSingle(node, v, label, converted));
  }
  return convertSingle(node, value, label, converted);
}

function convertSingle(
  attribute: SCIMMY.Types.Attribute,
  value: unknown,
  label: string,
  converted: string[],
): unknown {
  if (isBooleanAttribute(attribute) && typeof value === 'string' && /^(true|false)$/i.test(value)) {
    if (!converted.includes(label)) converted.push(label);
    return value.toLowerCase() === 'true';
  }
  if (attribute.type === 'complex' && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        const sub = attribute.subAttributes?.find(
          (a) => a.name.toLowerCase() === key.toLowerCase(),
        );
        return [key, sub ? convertSingle(sub, v, `${label}.${sub.name}`, converted) : v];
      }),
    );
  }
  return value;
}

/** The simulated values of a multi-valued attribute: the stored ones, then each op's effect. */
function collectionOf(
  attribute: SCIMMY.Types.Attribute,
  path: ResolvedPath,
  context: RuleContext,
): Record<string, unknown>[] {
  let collection = context.collections.get(attribute);
  if (collection === undefined) {
    // Extension attributes live under the extension's URN key of the stored representation.
    const inExtension =
      path.schemaUrn !== undefined && path.schemaUrn !== definitionOf(context.resourceType).id;
    const owner = inExtension ? readKey(context.current, path.schemaUrn ?? '') : context.current;
    const stored = isPlainObject(owner) ? readKey(owner, attribute.name) : undefined;
    collection = Array.isArray(stored)
      ? (structuredClone(stored) as Record<string, unknown>[])
      : [];
    context.collections.set(attribute, collection);
  }
  return collection;
}

function replaceContents(
  collection: Record<string, unknown>[],
  next: Record<string, unknown>[],
): void {
  collection.splice(0, collection.length, ...next);
}

const asElements = (value: unknown): Record<string, unknown>[] =>
  (Array.isArray(value) ? value : [value]).filter(isPlainObject).map((v) => ({ ...v }));

/** How an op on the whole attribute (no filter) changes the simulated values. */
function simulateWholeCollection(
  operation: WorkingOperation,
  path: ResolvedPath,
  collection: Record<string, unknown>[],
): void {
  if (path.subAttribute !== undefined) return;
  if (operation.op === 'add') collection.push(...asElements(operation.value));
  else if (operation.op === 'replace') replaceContents(collection, asElements(operation.value));
  else if (operation.value === undefined) replaceContents(collection, []);
}

function applyToElement(
  element: Record<string, unknown>,
  operation: WorkingOperation,
  path: ResolvedPath,
): void {
  if (path.subAttribute !== undefined) element[path.subAttribute] = operation.value;
  else if (isPlainObject(operation.value)) {
    if (operation.op === 'replace') for (const key of Object.keys(element)) delete element[key];
    Object.assign(element, operation.value);
  }
}

/** The value a filter of `eq` terms joined by `and` describes: `type eq "work"` → {type: "work"}. */
function elementFromFilter(
  path: ResolvedPath,
  operation: WorkingOperation,
): Record<string, unknown> {
  const filter = new SCIMMY.Types.Filter(path.filter ?? '') as unknown as Record<string, unknown>[];
  const noTarget = () =>
    new ScimError(
      400,
      `operation ${operation.number}: '${operation.path}' matches no value, and only a filter of 'eq' terms joined by 'and' can describe a new one`,
      'noTarget',
    );
  const [branch] = filter;
  if (filter.length !== 1 || branch === undefined) throw noTarget();
  const element: Record<string, unknown> = {};
  for (const [key, comparison] of Object.entries(branch)) {
    if (!Array.isArray(comparison) || comparison.length !== 2 || comparison[0] !== 'eq')
      throw noTarget();
    element[key] = comparison[1];
  }
  return element;
}

/** What the operation itself contributes to a new value: the sub-attribute, or the value object. */
function sentPart(path: ResolvedPath, operation: WorkingOperation): Record<string, unknown> {
  if (path.subAttribute !== undefined) return { [path.subAttribute]: operation.value };
  if (!isPlainObject(operation.value)) {
    throw new ScimError(
      400,
      `operation ${operation.number}: the value for '${operation.path}' must be an object`,
      'invalidValue',
    );
  }
  return operation.value;
}
