import { rosterTestConfig } from '@roster/core/testing/vitest-config';

export default rosterTestConfig({ include: ['e2e/**/*.test.ts', 'repository/**/*.test.ts'] });
