import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['@roster/core/testing/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
