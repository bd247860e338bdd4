import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

/** The manual's runnable examples, as the README tests (from the clone and from an installed package) take them. */
export const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const library = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');

/** The quick start's `jsonl-mirror ...` commands, arguments only. */
export function quickStartCommands(): string[] {
  const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
  return [...quick.matchAll(/^(?:\.\/bin\/)?jsonl-mirror (.*?)(?:\s+#.*)?$/gm)].map((m) => m[1]!);
}

export const libraryExample = (): string => /^# The library\n\n```js\n([\s\S]*?)```/.exec(library)![1]!;
export const bunExample = (): string => /## Using it from Bun\n[\s\S]*?```js\n([\s\S]*?)```/.exec(library)![1]!;

/** What the library example prints: one pass in the week (0.14/day), one failure of two completions. */
export const LIBRARY_OUTPUT = "sqlite true { value: 0.14, unit: 'per day', grade: 'Medium' }\n3\nMedium\n{ value: 50, unit: '%', grade: 'Low' }\n";
/** What the Bun example prints on the bundled example. */
export const BUN_OUTPUT = 'sqlite 40 0 true true\n';
