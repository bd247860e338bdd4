import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN, CLI, cli, mirrored, ROOT, tmp } from './helpers.js';

/**
 * Every module a CLI run loads, as a path below the repository (node_modules/x/... or dist/src/...):
 * ES modules as the loader hook sees them, CommonJS ones (native addons and
 * what createRequire loads) from the require cache at exit. The ES module
 * entry by default: bin/jsonl-mirror runs its bundle, where the same modules
 * are one file, each evaluated when first imported as here.
 */
function modulesLoaded(args: string[], entry = CLI): { code: number; stdout: string; modules: string[] } {
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
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(preload).href, entry, ...args], { encoding: 'utf8' });
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
    const bare = modulesLoaded(['--version'], BIN);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    // The hooks saw the run: the entry script is there, and nothing else of the package or its dependencies.
    expect(bare.modules).toEqual(['bin/jsonl-mirror']);

    const r = modulesLoaded(['--json', '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(bare.stdout);
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

describe('bin/jsonl-mirror runs the bundled CLI through a code cache of its own', () => {
  const dora = (dir: string) => ['--dir', dir, '--json', 'metrics', 'dora', '--source', 'sqlite', '--now', '2026-02-11'];
  const run = (entry: string, args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  /** A copy of the package whose bin and bundle are its own (their times and text the test's to set) and whose dist/src/ is this one's. */
  const packageCopy = (prefix: string): string => {
    const pkg = tmp(prefix);
    mkdirSync(join(pkg, 'bin'));
    mkdirSync(join(pkg, 'dist'));
    copyFileSync(BIN, join(pkg, 'bin/jsonl-mirror'));
    copyFileSync(join(ROOT, 'dist/cli.cjs'), join(pkg, 'dist/cli.cjs'));
    for (const name of ['package.json', 'sql', 'node_modules']) symlinkSync(join(ROOT, name), join(pkg, name));
    symlinkSync(join(ROOT, 'dist/src'), join(pkg, 'dist/src'));
    return pkg;
  };

  it('answers as the ES module entry, writes its cache at the first run, reads it at the next, and replaces one it cannot use', () => {
    const dir = mirrored();
    const cacheHome = tmp('jm-cache-');
    const env = { XDG_CACHE_HOME: cacheHome };
    const cacheDir = join(cacheHome, 'jsonl-mirror');
    const esm = run(CLI, dora(dir));
    expect(esm.status).toBe(0);
    const first = run(BIN, dora(dir), env);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe(esm.stdout);
    const [name, ...more] = readdirSync(cacheDir);
    expect(more).toEqual([]);
    expect(name).toMatch(new RegExp(`^cli-[0-9a-z]+-${process.version}-${process.arch}-\\d+-\\d+-\\d+-\\d+\\.v8$`));
    const cache = join(cacheDir, name!);
    const written = statSync(cache).mtimeMs;
    expect(statSync(cache).size).toBeGreaterThan(10_000);

    // Accepted: the next run leaves the cache as it is.
    expect(run(BIN, dora(dir), env).stdout).toBe(esm.stdout);
    expect(statSync(cache).mtimeMs).toBe(written);

    // A cache it cannot use (here, not a cache at all) is compiled around and written anew; an older build's is removed, another Node's kept.
    writeFileSync(cache, 'not a code cache');
    const runtime = name!.slice(0, name!.indexOf(`-${process.arch}-`) + process.arch.length + 2);
    writeFileSync(join(cacheDir, `${runtime}1-2-3-4.v8`), 'an older build');
    const otherNode = `${name!.split('-v')[0]}-v0.0.0-${process.arch}-1-2-3-4.v8`;
    writeFileSync(join(cacheDir, otherNode), 'another Node');
    const again = run(BIN, dora(dir), env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(esm.stdout);
    expect(readdirSync(cacheDir).sort()).toEqual([name, otherNode].sort());
    const good = readFileSync(cache);
    expect(good.length).toBeGreaterThan(10_000);

    // Damaged inside, at the same length: V8 would take it (and crash); its checksum does not match, so it is compiled around.
    const damaged = Buffer.from(good);
    damaged.fill(0, 4 + 64);
    writeFileSync(cache, damaged);
    const mended = run(BIN, dora(dir), env);
    expect(mended.status, mended.stderr).toBe(0);
    expect(mended.stdout).toBe(esm.stdout);
    expect(readFileSync(cache).subarray(4 + 64, 4 + 128).some((b) => b !== 0)).toBe(true);
  });

  it('takes no compiled code from a folder another user could write, and makes no cache in the working folder', () => {
    const dir = mirrored();
    const expected = run(CLI, dora(dir)).stdout;
    const cacheHome = tmp('jm-cache-');
    const cacheDir = join(cacheHome, 'jsonl-mirror');
    expect(run(BIN, dora(dir), { XDG_CACHE_HOME: cacheHome }).status).toBe(0);
    const [name] = readdirSync(cacheDir);
    // A planted cache that passes its checksum but is not code: run, it would crash V8.
    const planted = readFileSync(join(cacheDir, name!));
    const payload = Buffer.alloc(planted.length - 4);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(crc32(payload));
    writeFileSync(join(cacheDir, name!), Buffer.concat([head, payload]));
    chmodSync(cacheDir, 0o777);
    const shared = run(BIN, dora(dir), { XDG_CACHE_HOME: cacheHome });
    expect(shared.status, shared.stderr).toBe(0);
    expect(shared.stdout).toBe(expected);

    // A relative XDG_CACHE_HOME and a relative HOME are ignored (the XDG spec), not resolved against the working folder.
    const cwd = tmp('jm-cwd-');
    const r = spawnSync(process.execPath, [BIN, ...dora(dir)], { cwd, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: 'rel-cache', HOME: 'rel-home' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a bundle rewritten to the same size and mtime runs its new text, not the old cache', () => {
    const pkg = packageCopy('jm-same-');
    const bundle = join(pkg, 'dist/cli.cjs');
    const cacheHome = tmp('jm-cache-');
    // A whole second, ahead of dist/src/cli/main.js, so that the bundle runs and its time can be set back exactly.
    const time = Math.floor(Date.now() / 1000) + 2;
    utimesSync(bundle, time, time);
    const help = () => run(join(pkg, 'bin/jsonl-mirror'), ['--help'], { XDG_CACHE_HOME: cacheHome }).stdout;
    const before = help();
    expect(before).toContain('Usage: jsonl-mirror');
    expect(readdirSync(join(cacheHome, 'jsonl-mirror'))).toHaveLength(1);
    // Same length, same mtime (what cp -p or a build with fixed times gives), other text.
    const text = readFileSync(bundle, 'utf8');
    expect(text).toContain('Usage:');
    writeFileSync(bundle, text.replaceAll('Usage:', 'USAGE:'));
    utimesSync(bundle, time, time);
    expect(statSync(bundle).mtimeMs).toBe(time * 1000);
    expect(help()).toBe(before.replaceAll('Usage:', 'USAGE:'));
  });

  it('JSONL_MIRROR_NO_CODE_CACHE=1 runs without one, and a cache directory it cannot write costs nothing but the cache', () => {
    const dir = mirrored();
    const cacheHome = tmp('jm-cache-');
    const off = run(BIN, dora(dir), { XDG_CACHE_HOME: cacheHome, JSONL_MIRROR_NO_CODE_CACHE: '1' });
    expect(off.status, off.stderr).toBe(0);
    expect(readdirSync(cacheHome)).toEqual([]);
    // XDG_CACHE_HOME is a file: the cache directory cannot be made under it.
    const file = join(cacheHome, 'a-file');
    writeFileSync(file, '');
    const blocked = run(BIN, dora(dir), { XDG_CACHE_HOME: file });
    expect(blocked.status, blocked.stderr).toBe(0);
    expect(blocked.stdout).toBe(off.stdout);
    expect(blocked.stderr).toBe('');
  });

  it('a bundle older than the ES modules tsc wrote beside it is not run: they are', () => {
    const pkg = packageCopy('jm-stale-');
    const dir = mirrored();
    const esm = run(CLI, dora(dir));
    const cacheHome = tmp('jm-cache-');
    const older = statSync(join(ROOT, 'dist/src/cli/main.js')).mtimeMs / 1000 - 60;
    utimesSync(join(pkg, 'dist/cli.cjs'), older, older);
    const stale = run(join(pkg, 'bin/jsonl-mirror'), dora(dir), { XDG_CACHE_HOME: cacheHome });
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout).toBe(esm.stdout);
    // The ES modules ran: no code cache of the bundle was made.
    expect(readdirSync(cacheHome)).toEqual([]);
    const now = Date.now() / 1000;
    utimesSync(join(pkg, 'dist/cli.cjs'), now, now);
    expect(run(join(pkg, 'bin/jsonl-mirror'), dora(dir), { XDG_CACHE_HOME: cacheHome }).stdout).toBe(esm.stdout);
    expect(readdirSync(join(cacheHome, 'jsonl-mirror'))).toHaveLength(1);
  });

  it('the bundle runs in strict mode, as the ES modules it is made of do', () => {
    // bin wraps the text after its #! line in a function: a directive has to be that body's first statement.
    const body = readFileSync(join(ROOT, 'dist/cli.cjs'), 'utf8').replace(/^#!.*/, '');
    expect(body).toMatch(/^\s*'use strict';/);
    const strict = new Function(`${body.slice(0, body.indexOf(';') + 1)} return (function () { return this; })() === undefined;`);
    expect(strict()).toBe(true);
  });

  it('a package whose bundle was not built says how to build it', () => {
    const pkg = tmp('jm-unbuilt-');
    mkdirSync(join(pkg, 'bin'));
    copyFileSync(BIN, join(pkg, 'bin/jsonl-mirror'));
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    const r = run(join(pkg, 'bin/jsonl-mirror'), ['status']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`jsonl-mirror: ${join(pkg, 'dist/cli.cjs')} is missing; run \`npm run build\` in ${pkg}\n`);
    // The bare --version needs no build.
    expect(run(join(pkg, 'bin/jsonl-mirror'), ['--version']).status).toBe(0);
  });
});
