// The README promises that bodies, filters and personal data never reach a log line. Errors are
// the way they leak: pg and PGlite errors carry the row in `detail` and the bind parameters in
// `params`, body-parser's carry the raw body, and PostgreSQL's data exceptions and JSON.parse
// quote the value in the message. These go through a real app, a real database and the real
// logger, and read what was written.
import { Writable } from 'node:stream';
import express from 'express';
import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import { createBaseApp, createLifecycle, finishApp } from '../src/index.js';

const PERSON = 'ann.lee@example.com';
let database: TestDatabase;
const written: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    written.push(chunk.toString());
    done();
  },
});

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  await sql`create table people (email text primary key)`.execute(database.db);
  await sql`insert into people values (${PERSON})`.execute(database.db);
});
afterAll(() => database.close());

function buildApp() {
  const logger = createLogger({ level: 'info', destination: sink });
  const app = createBaseApp({ name: 'test', logger, database, lifecycle: createLifecycle() });
  // A unique violation: PostgreSQL says which row in `detail`, the driver keeps the parameters.
  app.post('/duplicate', async () => {
    await sql`insert into people values (${PERSON})`.execute(database.db);
  });
  // A data exception (class 22): the message itself quotes the value.
  app.post('/cast', async () => {
    await sql`select ${PERSON}::uuid`.execute(database.db);
  });
  // A body-parser failure, logged by a job's own logger rather than answered.
  app.post('/parse', (req, res, next) => {
    express.json()(req, res, (error?: unknown) => {
      logger.error({ err: new Error('reading failed', { cause: error }) }, 'test.parse_failed');
      next(error);
    });
  });
  return finishApp(app);
}

describe('error log lines', () => {
  it('say what failed (SQLSTATE, constraint) but never the values: no detail, parameters, body or quoted value', async () => {
    const app = buildApp();
    expect((await request(app).post('/duplicate')).status).toBe(500);
    expect((await request(app).post('/cast')).status).toBe(500);
    const parse = await request(app)
      .post('/parse')
      .set('Content-Type', 'application/json')
      .send(`{"userName": ${PERSON}}`);
    expect(parse.status).toBe(400);

    const lines = written.join('').split('\n').filter(Boolean);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = logged.filter((line) => line.err !== undefined).map((line) => line.err);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    const text = JSON.stringify(errors);
    expect(text).toContain('23505');
    expect(text).toContain('people_pkey');
    expect(text).toContain('22P02');
    expect(text).toContain('entity.parse.failed');
    // Neither the address nor any part of it, in any field, on any line.
    expect(written.join('')).not.toContain('ann.lee');
    expect(written.join('')).not.toContain('example.com');
  });
});
