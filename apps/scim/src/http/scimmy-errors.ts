import { readableScimmyMessage, ScimError, toScimError } from '../errors/scim-error.js';

/** Throws the SCIM form of a scimmy error (see {@link toScimError}); anything else untouched. */
export function fromScimmyError(error: unknown): never {
  throw toScimError(error);
}

/** Runs a scimmy call, translating its errors. */
export function withScimmy<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    return fromScimmyError(error);
  }
}

/**
 * Runs scimmy's coercion of a client's body. There a TypeError is scimmy's verdict on the input
 * ("expected value type 'boolean'", "expected to be a collection"), so it is 400 invalidValue,
 * with scimmy's message, which names the attribute.
 */
export function coerceInput<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof TypeError)
      throw new ScimError(400, readableScimmyMessage(error.message), 'invalidValue');
    return fromScimmyError(error);
  }
}
