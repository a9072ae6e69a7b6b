import type { Request, RequestHandler, Response, Router } from 'express';
import type { RouteParameters } from 'express-serve-static-core';
import { z } from 'zod';
import { HttpError } from '@roster/http';

/** Parses input with a zod schema; a failure is a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // A strict object names the keys it refused; say which ones, and that they are unknown.
    if (issue.code === 'unrecognized_keys')
      return `unknown ${where === 'query' ? 'query parameter' : 'field'}${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    return `${issue.path.join('.') || where}: ${issue.message}`;
  });
  throw new HttpError(400, 'Invalid', `invalid ${where}: ${problems.join('; ')}`);
}

/**
 * The admin API reads JSON bodies only. A body of any other type (a form, text/plain) is a
 * 415 before any route runs: ignoring it would run the route as if nothing had been sent
 * (a purge without its dryRun). An empty body (`Content-Length: 0`) is no body, whatever its type.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const empty = req.get('content-length') === '0' && req.get('transfer-encoding') === undefined;
  if (!empty && req.is('application/json') === false)
    throw new HttpError(
      415,
      'UnsupportedMediaType',
      `the request body must be application/json, not ${req.get('content-type') ?? 'untyped'}`,
    );
  next();
};

/** Takes no query parameters / no body fields: anything sent is refused by name. */
const NOTHING = z.strictObject({});

type Output<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;

/**
 * Declares an admin route, the one way to add one: its query and its body are parsed with the
 * route's schemas (strict objects, so an unknown parameter or field is a 400), and a route that
 * declares none refuses any. Only then does the handler run.
 *
 * @example
 * route(router, 'get', '/tenants/:slug/users', { query: usersQuery }, async (req, res, { query }) => …);
 */
export function route<
  Path extends string,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  router: Router,
  method: 'get' | 'post' | 'patch' | 'delete',
  path: Path,
  schemas: { readonly query?: Q; readonly body?: B },
  handler: (
    req: Request<RouteParameters<Path>>,
    res: Response,
    input: { query: Output<Q>; body: Output<B> },
  ) => Promise<void>,
): void {
  router[method](path, async (req: Request<RouteParameters<Path>>, res: Response) => {
    const query = parseInput(schemas.query ?? NOTHING, req.query, 'query') as Output<Q>;
    const body = parseInput(schemas.body ?? NOTHING, req.body, 'body') as Output<B>;
    await handler(req, res, { query, body });
  });
}

/** The fields of a parsed body that were given (an optional field left out is not a change). */
export const without = <T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
