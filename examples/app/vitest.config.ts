import { rosterTestConfig } from '@roster/core/testing/vitest-config';

export default rosterTestConfig();
