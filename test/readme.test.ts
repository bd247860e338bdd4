import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBun } from './bun-helpers.js';
import { FIXTURES, ROOT, snapshot, tmp } from './helpers.js';
import { BUN_OUTPUT, bunExample, LIBRARY_OUTPUT, libraryExample } from './readme-examples.js';

const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');
const readme = read('README.md');

/** The CLI lines of a page's ```sh blocks, from `jsonl-mirror` on, without their comments. */
function cliLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => [...b.matchAll(/^(?:\.\/bin\/)?jsonl-mirror (.*?)(?:\s+#.*)?$/gm)].map((m) => m[1]!));
}

/** Each argument of a command line as a shell splits it: words, and '…' or "…" quoted ones. */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Runs every command of a page against a fresh copy of the bundled example, as a new user would. */
function runOnExample(commands: string[]): void {
  const dir = join(tmp(), 'example');
  cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
  for (const c of commands) {
    const args = shellWords(c).map((a) => (a === 'fixtures/example' ? dir : a));
    const r = spawnSync(join(ROOT, 'bin/jsonl-mirror'), args, { encoding: 'utf8' });
    expect(r.status, `jsonl-mirror ${c}: ${r.stderr}`).toBe(0);
  }
}

/** The README's examples, run as a new user would, on a copy of the bundled example. */
describe('README', () => {
  it('quick start: the main job and the first queries work on the bundled example', () => {
    const quick = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = cliLines(quick);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    runOnExample(commands);
  });

  it('getting started: the set-up and the first hour work on the bundled example', () => {
    const commands = cliLines(read('docs/getting-started.md'));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    runOnExample(commands);
  });

  it('the README runs the same quick start as getting started', () => {
    const setUp = (md: string) => md.split('\n').filter((l) => /^(\.ci\/system-deps|\.\/bin\/jsonl-mirror)/.test(l));
    expect(setUp(readme).length).toBe(2);
    expect(setUp(read('docs/getting-started.md'))).toEqual(setUp(readme));
  });

  it("the README's one example per job: the commands that end, and the library call, work on the example", () => {
    const jobs = readme.split('## One example per job')[1]!.split('\n## ')[0]!;
    const long = /^--dir logs (tail|serve)\b/; // they run until stopped: docs/cli.md's tests cover them
    const commands = cliLines(jobs);
    expect(commands.filter((c) => long.test(c))).toHaveLength(2);
    runOnExample(commands.filter((c) => !long.test(c)).map((c) => c.replace('--dir logs', '--dir fixtures/example')));
    const code = /```js\n([\s\S]*?)```/.exec(jobs)![1]!;
    const scratch = join(ROOT, 'dist', 'readme-check');
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, `job-${process.pid}.mjs`);
    writeFileSync(file, code.replace("'logs'", JSON.stringify(join(FIXTURES, 'example'))));
    try {
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/deploy_freq: \{ value: [\d.]+, unit: 'per day'/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('the library example runs', () => {
    const code = libraryExample();
    const before = snapshot(join(FIXTURES, 'example'), () => true);
    // Inside the package, so that `import 'jsonl-mirror'` resolves to this package.
    const scratch = join(ROOT, 'dist', 'readme-check');
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, `example-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(LIBRARY_OUTPUT);
      expect(snapshot(join(FIXTURES, 'example'), () => true)).toEqual(before); // the tracked example is left as it was
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('the Bun example runs under Bun, from the mirror', () => {
    const code = bunExample();
    const dir = join(tmp(), 'example');
    cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
    const bun = findBun();
    const env = { ...process.env };
    delete env.JSONL_MIRROR_SQLITE_MODULE;
    const imported = spawnSync(bun, [join(ROOT, 'bin/jsonl-mirror'), 'import', '--dir', dir, '--no-progress'], { encoding: 'utf8', env });
    expect(imported.status, imported.stderr).toBe(0);
    const scratch = join(ROOT, 'dist', 'readme-check');
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, `patrol-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      const r = spawnSync(bun, [file, dir], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(BUN_OUTPUT);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

