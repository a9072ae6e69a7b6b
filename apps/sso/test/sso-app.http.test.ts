import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, systemClock } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createLifecycle } from '@roster/http';
import { createSsoApp } from '../src/index.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const build = () =>
  createSsoApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'https://sso.example.test',
  });

describe('the SSO app', () => {
  it('is live and ready when its database answers', async () => {
    const app = build();
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: database.engine });
  });

  it('serves its own metrics, labelled sso', async () => {
    const app = build();
    await request(app).get('/healthz');
    const metrics = await request(app).get('/metrics');
    expect(metrics.text).toMatch(
      /roster_http_requests_total\{method="GET",route="\/healthz",status="200",app="sso"\}/,
    );
  });

  it('answers an unknown path with a JSON 404 carrying the request id', async () => {
    const res = await request(build()).get('/nowhere').set('X-Request-Id', 'sso-1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NotFound', message: 'no route for GET /nowhere', requestId: 'sso-1' },
    });
  });
});
