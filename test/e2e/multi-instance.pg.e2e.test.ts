import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@roster/core';
import { createTestDatabase, type TestDatabase } from '@roster/core/testing';
import {
  cleanEnv,
  ENTRY,
  freePort,
  logLines,
  startProcess,
  waitUntilReady,
  type RunningProcess,
} from '../helpers/processes.js';

// PostgreSQL only (a *.pg.* file: vitest.config.ts includes it when DATABASE_URL is set; the
// embedded engine is one process by design, see npm-start.e2e.test.ts for its data-folder lock).
// Several instances of each app on one PostgreSQL, started at the same moment on a database no
// migration has touched yet: every one must come up, and the schema be migrated exactly once.
const started: RunningProcess[] = [];
let database: TestDatabase | undefined;

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  await database?.close();
});

describe('instances on one PostgreSQL', () => {
  it('start at the same moment without a migration error, then all stop cleanly', async () => {
    database = await createTestDatabase({ migrated: false });
    if (database.target.kind !== 'postgres')
      throw new Error('*.pg.*.test.ts files run only with DATABASE_URL (vitest.config.ts)');
    const url = database.target.url;

    const apps = [
      ['scim', ENTRY.scim, 'SCIM_PORT'],
      ['scim', ENTRY.scim, 'SCIM_PORT'],
      ['sso', ENTRY.sso, 'SSO_PORT'],
      ['sso', ENTRY.sso, 'SSO_PORT'],
      ['admin', ENTRY.admin, 'ADMIN_PORT'],
      ['admin', ENTRY.admin, 'ADMIN_PORT'],
    ] as const;
    const instances = await Promise.all(
      apps.map(async ([name, entry, portVariable]) => ({
        name,
        entry,
        portVariable,
        port: await freePort(),
      })),
    );
    for (const instance of instances) {
      started.push(
        startProcess(
          instance.entry,
          cleanEnv({
            DATABASE_URL: url,
            ROSTER_ADMIN_TOKEN: 'multi-instance-admin-token-0123456789',
            HOST: '127.0.0.1',
            [instance.portVariable]: String(instance.port),
          }),
        ),
      );
    }
    await Promise.all(
      instances.map((instance, i) =>
        waitUntilReady(`http://127.0.0.1:${instance.port}/readyz`, started[i] as RunningProcess),
      ),
    );

    const migrationLines = started.flatMap((p) =>
      logLines(p.stdout()).filter((line) => line.msg === 'db.migrated'),
    );
    // Exactly one process migrated, and it applied every migration the schema has.
    expect(migrationLines).toHaveLength(1);
    const applied = migrationLines[0]?.migrations as string[] | undefined;
    expect(applied?.length).toBeGreaterThan(0);
    const check = await openDatabase({ kind: 'postgres', url, poolMax: 2 });
    try {
      const rows = await sql<{
        name: string;
      }>`select name from roster_migration order by name`.execute(check.db);
      expect(rows.rows.map((r) => r.name)).toEqual(applied);
    } finally {
      await check.close();
    }
    for (const p of started) expect(p.stderr()).toBe('');

    for (const p of started) p.child.kill('SIGTERM');
    expect(await Promise.all(started.map((p) => p.exited))).toEqual(started.map(() => 0));
  });
});
