import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const reference = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');

function help(...args: string[]): string {
  const r = spawnSync(join(ROOT, 'bin/jsonl-mirror'), [...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** The names a `--help` section lists: each entry line starts two spaces in. */
function entries(text: string, section: 'Options' | 'Commands'): string[] {
  const body = text.split(`\n${section}:\n`)[1]?.split(/\n\n|\n\S/)[0] ?? '';
  return [...body.matchAll(/^ {2}(\S.*?)(?: {2,}|$)/gm)].map((m) => m[1]!);
}

/** The long options of one entry (`-q, --quiet`, `--no-progress`, `--fsync <mode>`). */
const longOptions = (entry: string) => [...entry.matchAll(/--[\w-]+/g)].map((m) => m[0]).filter((o) => o !== '--help' && o !== '--version');

describe('docs/cli.md, against --help', () => {
  const commands = entries(help(), 'Commands').map((e) => e.split(' ')[0]!).filter((c) => c !== 'help');

  it('names every command in a heading of its own', () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    const headings = [...reference.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    for (const c of commands) expect(headings.some((h) => h.split(/[\s,:]+/).includes(c)), c).toBe(true);
  });

  it('explains every global option and every option of every command', () => {
    const missing = [help(), ...commands.map((c) => help(c))].flatMap((text) =>
      entries(text, 'Options').flatMap(longOptions).filter((o) => !new RegExp(`\`[^\`]*${o}(?![\\w-])`).test(reference)));
    expect([...new Set(missing)]).toEqual([]);
  });

  it('the reader of --help would fail it: an option it does not list is found missing', () => {
    const option = longOptions('  --made-up-option <x>  a flag no command has')[0]!;
    expect(new RegExp(`\`[^\`]*${option}(?![\\w-])`).test(reference)).toBe(false);
    expect(entries(help('import'), 'Options').flatMap(longOptions)).toContain('--final');
  });
});
