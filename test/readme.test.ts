import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBun } from './bun-helpers.js';
import { FIXTURES, ROOT, snapshot, tmp } from './helpers.js';
import { BUN_OUTPUT, bunExample, LIBRARY_OUTPUT, libraryExample, quickStartCommands } from './readme-examples.js';



/** The README's examples, run as a new user would, on a copy of the bundled example. */
describe('README', () => {
  it('quick start: the main job and the first queries work on the bundled example', () => {
    const dir = join(tmp(), 'example');
    cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
    const commands = quickStartCommands();
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const c of commands) {
      const args = c.replace('fixtures/example', dir).split(/\s+/);
      const r = spawnSync(join(ROOT, 'bin/jsonl-mirror'), args, { encoding: 'utf8' });
      expect(r.status, `jsonl-mirror ${c}: ${r.stderr}`).toBe(0);
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

