import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreError, createLogger } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createBaseApp, createLifecycle, finishApp, HttpError } from '../src/index.js';

let database: TestDatabase;
const logLines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean))
      logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
});
afterAll(() => database.close());

function buildApp() {
  const lifecycle = createLifecycle();
  const app = createBaseApp({
    name: 'test',
    logger: createLogger({ level: 'info', destination: sink }),
    database,
    lifecycle,
  });
  app.get('/things/:id', (req) => {
    if (req.params.id === 'missing') throw new CoreError('NotFound', 'no such thing');
    if (req.params.id === 'pruned') throw new CoreError('Gone', 'no longer kept');
    if (req.params.id === 'teapot') throw new HttpError(418, 'Teapot', 'short and stout');
    throw new Error('secret internal detail');
  });
  return { app: finishApp(app), lifecycle };
}

describe('the shared HTTP base', () => {
  it('gives every response a request id, keeping a sane one the caller sent', async () => {
    const { app } = buildApp();
    const own = await request(app).get('/healthz');
    expect(own.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await request(app).get('/healthz').set('X-Request-Id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(app).get('/healthz').set('X-Request-Id', 'bad id <script>');
    expect(replaced.headers['x-request-id']).not.toBe('bad id <script>');
  });

  it('maps core errors to their status and puts the request id in the body', async () => {
    const { app } = buildApp();
    const res = await request(app).get('/things/missing').set('X-Request-Id', 'req-1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NotFound', message: 'no such thing', requestId: 'req-1' },
    });
    expect((await request(app).get('/things/teapot')).status).toBe(418);
    // Events past the retention (EVENTS_RETENTION_DAYS) were pruned.
    const pruned = await request(app).get('/things/pruned');
    expect(pruned.status).toBe(410);
    expect(pruned.body.error).toMatchObject({ code: 'Gone', message: 'no longer kept' });
  });

  it('answers unknown errors with a fixed message, never the internal one, and logs the stack', async () => {
    const { app } = buildApp();
    const res = await request(app).get('/things/boom').set('X-Request-Id', 'req-boom');
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
    expect(res.body.error.requestId).toBe('req-boom');
    const logged = logLines.find((line) => line.msg === 'http.unhandled_error');
    expect(JSON.stringify(logged)).toContain('secret internal detail');
    expect((logged?.req as { id?: string } | undefined)?.id).toBe('req-boom');
  });

  it('never logs the authorization header, cookies or the query string', async () => {
    const { app } = buildApp();
    await request(app)
      .get('/healthz/nope?filter=userName%20eq%20%22ann%40example.com%22')
      .set('Authorization', 'Bearer s3cr3t')
      .set('Cookie', 'sid=s3cr3t');
    const text = JSON.stringify(logLines);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('example.com');
  });

  it('turns readiness to 503 once draining starts, while liveness stays 200', async () => {
    const { app, lifecycle } = buildApp();
    expect((await request(app).get('/readyz')).status).toBe(200);
    lifecycle.startDraining();
    expect((await request(app).get('/readyz')).status).toBe(503);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('reports readiness 503 when the database does not answer', async () => {
    const broken = await createTestDatabase({ migrated: false });
    await broken.close();
    const app = finishApp(
      createBaseApp({
        name: 'test',
        logger: createLogger({ level: 'silent' }),
        database: broken,
        lifecycle: createLifecycle(),
      }),
    );
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
  });

  it('exposes Prometheus metrics by route template and status, and pool gauges', async () => {
    const { app } = buildApp();
    await request(app).get('/things/missing');
    const metrics = await request(app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(
      /roster_http_requests_total\{method="GET",route="\/things\/:id",status="404",app="test"\} 1/,
    );
    expect(metrics.text).not.toContain('/things/missing');
    expect(metrics.text).toMatch(
      /roster_db_pool_connections\{engine="(pglite|postgres)",app="test"\}/,
    );
  });
});
