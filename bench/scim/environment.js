// The world the SCIM benchmarks run in: a database of their own on the PostgreSQL that
// DATABASE_URL names (dropped afterwards), tenants with SCIM tokens, the SCIM app and an express
// hello listening on free loopback ports in this process.
/* global console, process, URL */
import express from 'express';
import pg from 'pg';
import {
  createLogger,
  createScimToken,
  createTenant,
  migrateToLatest,
  openDatabase,
  systemClock,
} from '@roster/core';
import { dropDatabase } from '@roster/core/testing';
import { createLifecycle, listen } from '@roster/http';
import { createScimApp } from '@roster/scim';
import { BENCH_SCIM_CONFIG } from '../lib/scim-config.js';

const SYSTEM_CONTEXT = { actor: { type: 'system' } };

/** The server URL with another database name. */
function withDatabase(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(serverUrl, statement) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates and migrates `roster_bench_<time>` beside DATABASE_URL's database. Returns the Roster
 * handle the SCIM app uses, its `url`, a raw pg pool for seeding and references, and `close()`.
 */
export async function createBenchDatabase(serverUrl, { poolMax }) {
  const name = `roster_bench_${Date.now().toString(36)}`;
  await admin(serverUrl, `create database ${name}`);
  const url = withDatabase(serverUrl, name);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(serverUrl, name);
  };
  // Interrupted runs (Ctrl-C) must not leave a million-row database behind.
  const onSignal = () => {
    console.log(`interrupted: dropping ${name}`);
    drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const database = await openDatabase({ kind: 'postgres', url, poolMax });
    await migrateToLatest(database);
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    return {
      name,
      url,
      database,
      pool,
      async close() {
        await pool.end();
        await database.close();
        await drop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      },
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

/** A tenant created through core, with a SCIM token: { id, slug, token }. */
export async function createBenchTenant(database, label) {
  const slug = `bench-${label}-${Date.now().toString(36)}`;
  const tenant = await createTenant(database.db, slug, SYSTEM_CONTEXT);
  const { token } = await createScimToken(
    database.db,
    slug,
    { expiresAt: null, description: `bench ${label}` },
    SYSTEM_CONTEXT,
    systemClock,
  );
  return { id: tenant.id, slug, token };
}

/** The SCIM app on a free loopback port: { port, close() }. */
export async function startScimServer(database) {
  const app = createScimApp({
    database,
    logger: createLogger({ level: 'silent' }),
    clock: systemClock,
    lifecycle: createLifecycle(),
    baseUrl: 'http://localhost',
    config: BENCH_SCIM_CONFIG,
  });
  return serve(app);
}

/** express 5 `res.json` hello, the reference for request rates (perf notes §4). */
export async function startHelloServer() {
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return serve(app);
}

async function serve(app) {
  const server = await listen(app, '127.0.0.1', 0);
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(resolve);
      }),
  };
}
