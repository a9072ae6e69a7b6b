/**
 * The form in which identifiers are compared, by every door (SCIM userName and emails, a SAML
 * NameID and its mapped userName): Unicode NFC, surrounding white space dropped, lower case.
 * userName and email are caseExact=false (RFC 7643 §4.1.1, §4.1.2); NFC makes "é" typed two ways
 * one person; " ann@x " pasted with spaces is ann@x (a SAML IdP trims the NameID it sends). The
 * value as the IdP sent it is kept for display; only this key is indexed and compared. Stored keys
 * follow this function: a change here needs a migration of `users.user_name_key` and
 * `user_emails.value_key` (202612030100_trim_identity_keys did it for the trimming).
 */
export function identityKey(value: string): string {
  return value.normalize('NFC').trim().toLowerCase();
}

/** NameID formats (SAML 2.0 core §8.3). */
export const NAME_ID_FORMAT = {
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
} as const;

/** A transient NameID changes at every login: it may sign a person in, never link them (§8.3.8). */
export const isTransientNameId = (format: string | null | undefined): boolean =>
  format === NAME_ID_FORMAT.transient;

/**
 * Entra ID soft-deletes by renaming userName to `<objectId hex, 32 chars><UPN>` and sending
 * active:false. Recognise the prefix so the rename is never taken for a new identity.
 */
const ENTRA_SOFT_DELETE_PREFIX = /^[0-9a-f]{32}(?=.+@)/i;
export function isEntraSoftDeleteRename(
  previousUserName: string,
  incomingUserName: string,
): boolean {
  const match = ENTRA_SOFT_DELETE_PREFIX.exec(incomingUserName);
  return (
    match !== null &&
    identityKey(incomingUserName.slice(match[0].length)) === identityKey(previousUserName)
  );
}
