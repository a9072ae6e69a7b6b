// What any door may store, checked before anything is written, so that a value PostgreSQL would
// refuse is a clear `Invalid` naming the limit and never a database error.
import { invalid } from './errors.js';
import type { GroupAttributes } from './groups/group.js';
import { identityKey } from './reconciliation/identity-key.js';
import type { UserAttributes } from './users/user.js';

/**
 * Deepest nesting of arrays and objects accepted in a JSON request body or a stored resource.
 * A SCIM resource nests three levels, a /Bulk operation's data six; walks over deeper input
 * would exhaust the stack.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Longest value, in characters, of an indexed text attribute: userName, externalId, displayName,
 * emails.value, a group's displayName and externalId, a SAML NameID. A PostgreSQL btree entry
 * holds at most about 2.7 KB; 512 characters of up to 4 UTF-8 bytes each stay under it.
 */
export const MAX_INDEXED_TEXT_LENGTH = 512;
/** Bytes an identity key (the normalised form that is indexed) may take. */
const MAX_INDEXED_KEY_BYTES = 2048;

/**
 * Most values one multi-valued attribute may hold (emails, phoneNumbers, roles, …). Group members
 * have their own limit (MAX_MEMBERS_PER_CHANGE).
 */
export const MAX_VALUES_PER_ATTRIBUTE = 100;

// With the `u` flag a surrogate pair is one code point; only a lone half is category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Text PostgreSQL can store: no U+0000 (text cannot hold it) and no lone UTF-16 surrogate (not a
 * character; jsonb refuses its `\ud800` escape and UTF-8 cannot encode it).
 */
export const isStorableText = (text: string): boolean =>
  !text.includes('\u0000') && !LONE_SURROGATE.test(text);

/** Why a string cannot be stored, in words; undefined when it can. */
function unstorableReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains U+0000';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not a character)';
  return undefined;
}

/**
 * The first reason a parsed JSON value cannot be taken whole: nesting deeper than `maxDepth`, or
 * a string (or key) that cannot be stored. Walks without recursion, so any depth is safe to check.
 * `where` names the value in the message (`the request body`, `name.givenName`).
 */
export function findUnstorableJson(
  value: unknown,
  where: string,
  maxDepth: number = MAX_JSON_DEPTH,
): string | undefined {
  const pending: { value: unknown; depth: number; path: string }[] = [
    { value, depth: 0, path: '' },
  ];
  const at = (path: string) => (path === '' ? where : `${where} at ${path}`);
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value: current, depth, path } = item;
    if (typeof current === 'string') {
      const reason = unstorableReason(current);
      if (reason) return `${at(path)} ${reason}, which cannot be stored`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth)
      return `${where} nests arrays and objects deeper than ${maxDepth} levels (the JSON nesting limit)`;
    if (Array.isArray(current)) {
      current.forEach((element, index) =>
        pending.push({ value: element, depth: depth + 1, path: `${path}[${index}]` }),
      );
      continue;
    }
    for (const [key, element] of Object.entries(current)) {
      const keyPath = path === '' ? key : `${path}.${key}`;
      const reason = unstorableReason(key);
      if (reason) return `a key of ${at(path)} ${reason}, which cannot be stored`;
      pending.push({ value: element, depth: depth + 1, path: keyPath });
    }
  }
  return undefined;
}

/** Refuses a JSON value that {@link findUnstorableJson} finds fault with. */
export function assertStorableJson(value: unknown, field: string): void {
  const problem = findUnstorableJson(value, field);
  if (problem) throw invalid(problem, { field });
}

/**
 * Refuses an indexed text attribute that cannot be stored or indexed: longer than
 * {@link MAX_INDEXED_TEXT_LENGTH} characters, or holding U+0000 or a lone surrogate.
 */
export function assertIndexedText(value: string | null | undefined, field: string): void {
  if (value === null || value === undefined) return;
  const reason = unstorableReason(value);
  if (reason) throw invalid(`${field} ${reason}, which cannot be stored`, { field });
  const tooLong = () =>
    invalid(
      `${field} is longer than ${MAX_INDEXED_TEXT_LENGTH} characters (the limit for indexed attributes)`,
      { field, limit: MAX_INDEXED_TEXT_LENGTH },
    );
  // Cheap first: every character is at least one UTF-16 unit.
  if (value.length > MAX_INDEXED_TEXT_LENGTH * 2 || [...value].length > MAX_INDEXED_TEXT_LENGTH)
    throw tooLong();
  // Case folding and NFC can lengthen a few characters; the indexed key must still fit.
  if (Buffer.byteLength(identityKey(value), 'utf8') > MAX_INDEXED_KEY_BYTES) throw tooLong();
}

/** Refuses a multi-valued attribute with more than {@link MAX_VALUES_PER_ATTRIBUTE} values. */
export function assertValueCount(values: readonly unknown[] | undefined, field: string): void {
  if (values !== undefined && values.length > MAX_VALUES_PER_ATTRIBUTE)
    throw invalid(
      `${field} has ${values.length} values; at most ${MAX_VALUES_PER_ATTRIBUTE} are accepted (the limit of values per attribute)`,
      { field, limit: MAX_VALUES_PER_ATTRIBUTE },
    );
}

/**
 * Refuses a stored SCIM representation with a multi-valued attribute (in the core schema or an
 * extension) holding more than {@link MAX_VALUES_PER_ATTRIBUTE} values, nesting deeper than
 * {@link MAX_JSON_DEPTH}, or text that cannot be stored.
 */
export function assertStorableResource(resource: Readonly<Record<string, unknown>>): void {
  assertStorableJson(resource, 'the resource');
  for (const [name, value] of Object.entries(resource)) {
    if (Array.isArray(value) && name !== 'schemas') assertValueCount(value, name);
    if (name.startsWith('urn:') && typeof value === 'object' && value !== null)
      for (const [sub, subValue] of Object.entries(value))
        if (Array.isArray(subValue)) assertValueCount(subValue, sub);
  }
}

/** Refuses text that cannot be stored (U+0000, a lone surrogate), naming the field. */
export function assertStorableText(value: string | null | undefined, field: string): void {
  if (value === null || value === undefined) return;
  const reason = unstorableReason(value);
  if (reason) throw invalid(`${field} ${reason}, which cannot be stored`, { field });
}

/**
 * What either door (SCIM, SAML) says about a user, checked before any lookup or write: indexed
 * attributes within {@link MAX_INDEXED_TEXT_LENGTH}, at most {@link MAX_VALUES_PER_ATTRIBUTE}
 * emails, and nothing PostgreSQL cannot store.
 */
export function assertStorableUser(attributes: UserAttributes): void {
  assertIndexedText(attributes.userName, 'userName');
  assertIndexedText(attributes.externalId, 'externalId');
  assertIndexedText(attributes.displayName, 'displayName');
  assertStorableText(attributes.givenName, 'name.givenName');
  assertStorableText(attributes.familyName, 'name.familyName');
  assertValueCount(attributes.emails, 'emails');
  attributes.emails?.forEach((email, index) => {
    assertIndexedText(email.value, `emails[${index}].value`);
    assertStorableText(email.type, `emails[${index}].type`);
  });
  if (attributes.scimResource) assertStorableResource(attributes.scimResource);
}

/** The same for a group's own attributes (its members are checked as they are resolved). */
export function assertStorableGroup(attributes: GroupAttributes): void {
  assertIndexedText(attributes.displayName, 'displayName');
  assertIndexedText(attributes.externalId, 'externalId');
  if (attributes.scimResource) assertStorableResource(attributes.scimResource);
}
