import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

/**
 * The vitest settings every Roster package shares: the migrated-template global setup, generous
 * timeouts for database start-up, and a JSON report that .ci/run totals.
 *
 * `*.pg.*.test.ts` files need what only PostgreSQL offers (several processes on one database);
 * they are included only when DATABASE_URL is set, which .ci/run always does in one pass.
 */
export function rosterTestConfig(
  options: { include?: string[]; globalSetup?: string } = {},
): ViteUserConfig {
  const onPostgres = Boolean(process.env.DATABASE_URL);
  const test: TestOptions = {
    include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', ...(onPostgres ? [] : ['**/*.pg.*.test.ts'])],
    globalSetup: [options.globalSetup ?? '@roster/core/testing/global-setup'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ['default', ['json', { outputFile: '.cache/vitest-results.json' }]],
  };
  return defineConfig({ test });
}
