// node-saml Profile (signed data only) -> core's Assertion, through the IdP's attribute map.
import type { Profile } from '@node-saml/node-saml';
import type { Assertion, SamlIdp, UserAttributes } from '@roster/core';

/** Most group names taken from one assertion, and their longest name. */
export const MAX_ASSERTED_GROUPS = 1000;
export const MAX_ASSERTED_VALUE_LENGTH = 1024;

const values = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value])
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.trim())
    .filter((v) => v !== '' && v.length <= MAX_ASSERTED_VALUE_LENGTH);

export function toAssertion(profile: Profile, idp: SamlIdp): Assertion {
  const asserted = (profile.attributes ?? {}) as Record<string, unknown>;
  const first = (attributeName: string | undefined) =>
    attributeName === undefined ? undefined : values(asserted[attributeName])[0];
  const map = idp.attributeMap;
  const email = first(map.email);
  const userName = first(map.userName);
  const attributes: Partial<UserAttributes> = Object.fromEntries(
    Object.entries({
      userName,
      displayName: first(map.displayName),
      givenName: first(map.givenName),
      familyName: first(map.familyName),
      emails: email ? [{ value: email, type: 'work', primary: true }] : undefined,
    }).filter(([, value]) => value !== undefined),
  );
  const groups =
    idp.groupsAttribute !== null && idp.groupsAttribute in asserted
      ? [...new Set(values(asserted[idp.groupsAttribute]))].slice(0, MAX_ASSERTED_GROUPS)
      : undefined;
  return {
    subject: profile.nameID,
    ...(profile.nameIDFormat ? { subjectFormat: profile.nameIDFormat } : {}),
    attributes,
    ...(groups ? { groups } : {}),
    ...(profile.sessionIndex ? { sessionIndex: profile.sessionIndex } : {}),
  };
}
