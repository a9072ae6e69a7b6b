// docs/architecture.md names each hop of a request as `file: function`. This keeps the map true:
// every file it names exists, and every function it names next to a file is declared there.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.cache', '.turbo', '.git']);

function* sourceFiles(directory: string): Generator<string> {
  for (const name of readdirSync(directory)) {
    if (SKIPPED_DIRECTORIES.has(name)) continue;
    const path = join(directory, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts')) yield relative(root, path);
  }
}

const sources = [...sourceFiles(join(root, 'apps')), ...sourceFiles(join(root, 'packages'))];
const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

/** The source files whose path ends with `named` (the doc shortens core paths). */
const filesNamed = (named: string) =>
  sources.filter((path) => path === named || path.endsWith(`/${named}`));

/** A declaration of `name` in the file: a function, a constant, a class or an object method. */
const declares = (file: string, name: string) =>
  new RegExp(
    `(function\\*?|const|class|let)\\s+${name}\\b|^\\s+(async\\s+)?${name}\\s*[(:]`,
    'm',
  ).test(readFileSync(join(root, file), 'utf8'));

describe('docs/architecture.md', () => {
  it('names only files that exist', () => {
    const named = [...new Set(architecture.match(/[\w./-]+\.ts\b/g) ?? [])];
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((file) => filesNamed(file).length === 0)).toEqual([]);
  });

  it('names each hop’s function in the file it names', () => {
    const hops = [...architecture.matchAll(/([\w./-]+\.ts): (\w+)/g)].map(
      ([, file = '', name = '']) => ({ file, name }),
    );
    expect(hops.length).toBeGreaterThan(40);
    const wrong = hops.filter(
      ({ file, name }) => !filesNamed(file).some((path) => declares(path, name)),
    );
    expect(wrong).toEqual([]);
  });
});
