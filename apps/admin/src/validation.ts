import type { z } from 'zod';
import { HttpError } from '@roster/http';

/** Parses input with a zod schema; a failure is a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || where}: ${issue.message}`,
  );
  throw new HttpError(400, 'Invalid', `invalid ${where}: ${problems.join('; ')}`);
}
