import { z } from 'zod';

// Building blocks for the settings schemas of core and the apps, so every variable is read the
// same way and refused with the same message.

/** `FOO=` and `FOO=" "` mean unset: the default applies (never `Number('') === 0`). */
export const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A whole number from `min` to `max`; unset (or empty) is `fallback`, never 0. */
export const wholeNumberVariable = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/** A whole number from `min` to `max`, or undefined when unset. */
export const optionalWholeNumberVariable = (min: number, max: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).optional());

/** A TCP port to listen on; 0 picks a free one. */
export const portVariable = (fallback: number) => wholeNumberVariable(0, 65535, fallback);

/** Text; unset is `fallback`. */
export const textVariable = (fallback: string) =>
  z.preprocess(emptyAsUndefined, z.string().default(fallback));

/** Text, or undefined when unset. */
export const optionalTextVariable = () => z.preprocess(emptyAsUndefined, z.string().optional());

/** A public `http(s)://` base URL without its trailing slashes, or undefined when unset. */
export const optionalBaseUrlVariable = () =>
  z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
  );
