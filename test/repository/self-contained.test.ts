// The repository explains itself: its code, tests and docs point only at what a reader of the
// repository can open (the README, docs/, other files here, RFCs, public projects), never at the
// team's private notes or at an issue tracker's numbers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.cache', '.turbo', '.git', 'data']);
const TEXT_FILE = /\.(ts|js|mjs|cjs|json|md|sql|sh|ya?ml)$|^run$/;
const OUTSIDE_REFERENCE =
  /PRODUCT\.md|STYLE\.md|libraries\.md|peers-and-idps|notes\/performance\.md|\.\.\/shared\/|\b[Ii]ssue \d+\b/;
const THIS_FILE = relative(root, fileURLToPath(import.meta.url));

function* textFiles(directory: string): Generator<string> {
  for (const name of readdirSync(directory)) {
    if (SKIPPED_DIRECTORIES.has(name) || name === 'package-lock.json') continue;
    const path = join(directory, name);
    if (statSync(path).isDirectory()) yield* textFiles(path);
    else if (TEXT_FILE.test(name)) yield path;
  }
}

describe('the repository is self-contained', () => {
  it('has no reference to documents outside it or to issue numbers', () => {
    const found: string[] = [];
    for (const top of ['apps', 'packages', 'test', 'bench', 'examples', 'docs', '.ci']) {
      for (const file of textFiles(join(root, top))) {
        if (relative(root, file) === THIS_FILE) continue;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, index) => {
            if (OUTSIDE_REFERENCE.test(line)) found.push(`${relative(root, file)}:${index + 1}`);
          });
      }
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
    readme.forEach((line, index) => {
      if (OUTSIDE_REFERENCE.test(line)) found.push(`README.md:${index + 1}`);
    });
    expect(found).toEqual([]);
  });

  it('numbers the rules that comments cite as "rule N" in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const rules = readme.slice(readme.indexOf('## The rules'), readme.indexOf('## The CLI'));
    for (let rule = 1; rule <= 9; rule += 1)
      expect(rules).toMatch(new RegExp(`^${rule}\\. \\*\\*`, 'm'));
  });
});
