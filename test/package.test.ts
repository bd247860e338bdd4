import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBun } from './bun-helpers.js';
import { FIXTURES, ROOT, tmp } from './helpers.js';
import { BUN_OUTPUT, bunExample, LIBRARY_OUTPUT, libraryExample, quickStartCommands } from './readme-examples.js';

/**
 * The README's examples as a user runs them: in a project of their own that
 * installed the packed package (`npm pack`), not inside this clone.
 */
describe('the packed package, installed in a project outside the clone', () => {
  it('runs the quick start, the library example and the Bun example', () => {
    const work = tmp();
    // dist/ is built by the test command first; the tarball is what the registry would serve.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/ingest/gunzip-worker.js');
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({
      name: 'a-dashboard', private: true, type: 'module', dependencies: { 'jsonl-mirror': `file:${join(work, packed[0]!.filename)}` },
    }));
    // The native addon was compiled by this clone's install; the project takes that build instead of compiling it again.
    const installed = spawnSync('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8' });
    expect(installed.status, installed.stderr).toBe(0);
    // As npm 12 leaves it when its install script was not approved: the error names the fix.
    const logs = join(project, 'example');
    cpSync(join(FIXTURES, 'example'), logs, { recursive: true });
    const bin = join(project, 'node_modules/.bin/jsonl-mirror');
    const unbuilt = spawnSync(bin, ['--dir', logs, 'import'], { cwd: project, encoding: 'utf8' });
    expect(unbuilt.status).toBe(1);
    expect(unbuilt.stderr).toMatch(/cannot load better-sqlite3 .*`npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3`/);
    cpSync(join(ROOT, 'node_modules/better-sqlite3/build'), join(project, 'node_modules/better-sqlite3/build'), { recursive: true });

    writeFileSync(join(project, 'example.mjs'), libraryExample());
    const lib = spawnSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8' });
    expect(lib.status, lib.stderr).toBe(0);
    expect(lib.stdout).toBe(LIBRARY_OUTPUT);

    for (const c of quickStartCommands()) {
      const r = spawnSync(bin, c.replace('fixtures/example', logs).split(/\s+/), { cwd: project, encoding: 'utf8' });
      expect(r.status, `jsonl-mirror ${c}: ${r.stderr}`).toBe(0);
    }

    const env = { ...process.env };
    delete env.JSONL_MIRROR_SQLITE_MODULE;
    writeFileSync(join(project, 'patrol.mjs'), bunExample());
    const bun = spawnSync(findBun(), ['patrol.mjs', logs], { cwd: project, encoding: 'utf8', env });
    expect(bun.status, bun.stderr).toBe(0);
    expect(bun.stdout).toBe(BUN_OUTPUT);
  }, 300_000);
});
