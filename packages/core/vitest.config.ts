import { rosterTestConfig } from './src/testing/vitest-config.js';

export default rosterTestConfig({ globalSetup: 'src/testing/global-setup.ts' });
