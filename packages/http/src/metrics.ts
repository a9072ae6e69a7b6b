import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from '@roster/core';

export interface HttpMetrics {
  readonly registry: Registry;
  /** Counts and times every request by route template (never the raw path) and status. */
  readonly middleware: RequestHandler;
}

/**
 * Prometheus metrics for one app: request counts and latencies by route and status, the
 * database pool, and Node's process metrics.
 */
export function createHttpMetrics(app: string, poolStats: () => PoolStats): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'roster_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'roster_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pool = (name: string, help: string, pick: (s: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['engine'] as const,
      registers: [registry],
      collect() {
        const stats = poolStats();
        this.set({ engine: stats.engine }, pick(stats));
      },
    });
  pool('roster_db_pool_connections', 'Database connections open.', (s) => s.total);
  pool('roster_db_pool_idle_connections', 'Database connections open and idle.', (s) => s.idle);
  pool(
    'roster_db_pool_waiting_requests',
    'Queries waiting for a database connection.',
    (s) => s.waiting,
  );

  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // Route templates, never raw paths, keep label cardinality bounded (no ids or tenant
      // slugs). A router mounted on a parameterised path names its pattern in res.locals.
      const prefix =
        typeof res.locals.routePattern === 'string' ? res.locals.routePattern : req.baseUrl;
      const route = req.route
        ? `${prefix}${String((req.route as { path: unknown }).path)}`
        : res.locals.routePattern
          ? `${prefix}/*`
          : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      requests.inc(labels);
      end(labels);
    });
    next();
  };
  return { registry, middleware };
}
