/** RFC 7644 §3.14: a resource's version is its row version, sent as a weak entity tag. */
export const etagOf = (version: number): string => `W/"${version}"`;

const ENTITY_TAG = /^(?:W\/)?"([^"]*)"$/;

/** The entity tags of an If-Match / If-None-Match header (RFC 9110 §13.1), `*` kept as is. */
function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

/** The version a tag names, or undefined for a tag this server never issued. */
function versionOf(tag: string): number | undefined {
  const opaque = ENTITY_TAG.exec(tag)?.[1];
  return opaque !== undefined && /^\d{1,9}$/.test(opaque) ? Number(opaque) : undefined;
}

/**
 * The version an `If-Match` header requires, for core to compare on the locked row.
 * Absent or `*`: no precondition. A tag this server never issued can match nothing: version 0,
 * which no resource has, so the write fails with 412 as RFC 9110 §13.1.1 requires.
 */
export function requiredVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const tags = tagsOf(header);
  if (tags.includes('*')) return undefined;
  const versions = tags.map(versionOf).filter((v): v is number => v !== undefined);
  // Several tags: the precondition holds if any matches; core checks one, so keep the newest.
  return versions.length > 0 ? Math.max(...versions) : 0;
}

/** RFC 9110 §13.1.2 with weak comparison: true when `If-None-Match` names the current version. */
export function notModified(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  const tags = tagsOf(header);
  return tags.includes('*') || tags.some((tag) => versionOf(tag) === version);
}
