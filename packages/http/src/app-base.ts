import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import { pinoHttp } from 'pino-http';
import { serializeError, type Logger, type RosterDatabase } from '@roster/core';
import { HttpError, toPublicError, type PublicError } from './http-error.js';
import type { Lifecycle } from './lifecycle.js';
import { createHttpMetrics } from './metrics.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

export interface BaseAppOptions {
  /** `scim`, `sso` or `admin`: a label on metrics and logs. */
  readonly name: string;
  readonly logger: Logger;
  readonly database: RosterDatabase;
  readonly lifecycle: Lifecycle;
}

/** Writes an error the app's own way (SCIM error body, HTML page, admin JSON). */
export type ErrorRenderer = (error: PublicError, req: Request, res: Response) => void;

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Step one of every app (practica's three steps): request id, access log, metrics, and the
 * health endpoints. Add routes, then call {@link finishApp}.
 */
export function createBaseApp(options: BaseAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Resources carry their own versions (SCIM meta.version); express' body hash ETag would contradict them.
  app.set('etag', false);
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  const metrics = createHttpMetrics(options.name, () => options.database.stats());

  app.use(
    pinoHttp({
      logger: options.logger.child({ app: options.name }),
      genReqId: (req, res) => {
        const id = requestIdOf(req);
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url ?? '') },
      // Never the query string (SCIM filters carry email addresses; SSO carries SAML messages),
      // never a header or a body.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
        // pino-http would put back pino's own, which copies every field of an error.
        err: serializeError,
      },
      customSuccessMessage: () => 'http.request',
      customErrorMessage: () => 'http.request',
    }),
  );
  app.use(metrics.middleware);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (options.lifecycle.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    try {
      await options.database.ping();
      res.json({ status: 'ready', database: options.database.engine });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

/** The JSON error body of the admin API and the non-protocol endpoints. */
export const renderJsonError: ErrorRenderer = (error, req, res) => {
  res
    .status(error.status)
    .json({ error: { code: error.code, message: error.message, requestId: req.id } });
};

/** Last step: a 404 for unknown routes and the one error middleware. */
export function finishApp(app: Express, render: ErrorRenderer = renderJsonError): Express {
  app.use((req: Request) => {
    throw new HttpError(404, 'NotFound', `no route for ${req.method} ${req.path}`);
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const publicError = toPublicError(error);
    if (publicError.internal) req.log.error({ err: error }, 'http.unhandled_error');
    render(publicError, req, res);
  });
  return app;
}
