import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, mirrored, ROOT, tmp } from './helpers.js';

const BIN = join(ROOT, 'bin/jsonl-mirror');

/**
 * Every module a CLI run loads, as a path below the repository (node_modules/x/... or dist/src/...):
 * ES modules as the loader hook sees them, CommonJS ones (native addons and
 * what createRequire loads) from the require cache at exit.
 */
function modulesLoaded(args: string[]): { code: number; stdout: string; modules: string[] } {
  const dir = tmp('jm-start-');
  const out = join(dir, 'loaded.txt');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return next(url, context);
}
`);
  const preload = join(dir, 'preload.mjs');
  writeFileSync(preload, `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(${JSON.stringify(out)}, Object.keys(cache).join('\\n') + '\\n'));
`);
  writeFileSync(out, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, BIN, ...args], { encoding: 'utf8' });
  const modules = readFileSync(out, 'utf8').split('\n').filter(Boolean)
    .map((u) => (u.startsWith('file:') ? new URL(u).pathname : u))
    .filter((p) => p.startsWith('/'))
    .map((p) => p.replace(/^.*\/node_modules\//, 'node_modules/').replace(`${ROOT}/`, ''));
  return { code: r.status ?? -1, stdout: r.stdout, modules: [...new Set(modules)] };
}

const HEAVY = ['cli-table3', 'cli-progress', 'chokidar', 'better-sqlite3', 'pg', 'pg-copy-streams'];
const packages = (modules: string[]) => new Set(modules.filter((m) => m.startsWith('node_modules/')).map((m) => m.split('/')[1]));
const bodies = (modules: string[]) => modules.filter((m) => m.startsWith('dist/src/cli/run/'));
const definitions = (modules: string[]) => modules.filter((m) => m.startsWith('dist/src/cli/commands/'));

describe('the CLI loads only what the command needs', () => {
  it('a bare --version loads nothing but the entry script; with another option it goes through commander without a command definition', () => {
    const bare = modulesLoaded(['--version']);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    // The hooks saw the run: the entry script is there, and nothing else of the package or its dependencies.
    expect(bare.modules).toEqual(['bin/jsonl-mirror']);

    const r = modulesLoaded(['--json', '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(bare.stdout);
    expect(r.modules).toContain('dist/src/cli/main.js');
    expect(packages(r.modules)).toContain('commander');
    for (const name of HEAVY) expect(packages(r.modules), name).not.toContain(name);
    expect(definitions(r.modules)).toEqual([]);
    expect(bodies(r.modules)).toEqual([]);
    // Neither the store, the readers, the metrics nor the server: the definitions name them without loading them.
    expect(r.modules.filter((m) => /^dist\/src\/(store|read|ingest|import|tailer|metrics|ops|server\/(?!token-env))/.test(m) || m === 'dist/src/api/reader.js')).toEqual([]);
  });

  it('metrics dora --json from SQLite loads its own definition and body and better-sqlite3, no table or progress library, nothing of pg or the scan', () => {
    const dir = mirrored();
    const r = modulesLoaded(['--dir', dir, '--json', 'metrics', 'dora', '--source', 'sqlite', '--now', '2026-02-11']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('deploy_freq');
    const loaded = packages(r.modules);
    expect(loaded).toContain('better-sqlite3');
    // better-sqlite3 is handed its addon's path: the `bindings` package's search of a dozen paths is not run.
    for (const name of ['cli-table3', 'cli-progress', 'chokidar', 'pg', 'pg-copy-streams', 'bindings']) expect(loaded, name).not.toContain(name);
    expect(definitions(r.modules)).toEqual(['dist/src/cli/commands/metrics.js']);
    expect(bodies(r.modules)).toEqual(['dist/src/cli/run/metrics.js']);
    // The reader's other backends: PostgreSQL's store and source, and the scan (--source sqlite never falls back to it).
    expect(r.modules.filter((m) => /^dist\/src\/(store\/pg\/|read\/(pg|scan)-source|api\/reader-(pg|scan)|api\/reader\.js|server\/)/.test(m))).toEqual([]);
  });

  it('help and completion still see every command', () => {
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['append', 'import', 'metrics', 'serve', 'shell-init', 'completion']) expect(help.stdout).toContain(`  ${name} `);
    const completion = cli(['completion', 'bash']);
    expect(completion.code).toBe(0);
    expect(completion.stdout).toContain('shell-init)');
    // A command given after a global option that takes a value is still the command chosen.
    expect(cli(['--dir', 'metrics', 'shell-init', '--help']).stdout).toContain('Usage: jsonl-mirror shell-init');
  });

  it('a failure inside a body loaded on demand is reported like any other: one line, and the JSON error', () => {
    const r = cli(['--json', '--dir', mirrored(), 'metrics', 'no-such-metric']);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('INVALID_ARGUMENT');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
