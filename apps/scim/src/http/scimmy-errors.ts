import SCIMMY from 'scimmy';
import { ScimError, type ScimType } from '../errors/scim-error.js';

/**
 * scimmy reports bad input as SCIMMY.Types.Error (status + scimType). This turns one into our
 * ScimError so it leaves through the one SCIM error path; anything else is rethrown untouched
 * (a TypeError of ours is a bug and must stay a 500, never a 400: libraries.md §A3).
 */
export function fromScimmyError(error: unknown): never {
  if (error instanceof SCIMMY.Types.Error) {
    const { status, scimType } = error as unknown as { status: number; scimType?: string | null };
    throw new ScimError(status, error.message, (scimType ?? undefined) as ScimType | undefined);
  }
  throw error;
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
    if (error instanceof TypeError) throw new ScimError(400, error.message, 'invalidValue');
    return fromScimmyError(error);
  }
}
