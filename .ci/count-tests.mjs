// Totals the vitest JSON reports the last `npm test` wrote, and prints one closing line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const packageDirs = ['packages', 'apps', 'examples']
  .flatMap((root) => readdirSync(root).map((name) => path.join(root, name)))
  .concat('test');
const files = packageDirs
  .map((dir) => path.join(dir, '.cache/vitest-results.json'))
  .filter((file) => existsSync(file));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`${process.argv[2] ?? 'tests'} (${files.length} packages):`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (files.length === 0 || passed === 0 || failed > 0) process.exit(1);
