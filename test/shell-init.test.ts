import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cli, tmp } from './helpers.js';

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** The emitter printed by `shell-init` for a fresh folder, and a way to run bash with it. */
function emitter() {
  const dir = tmp();
  const r = cli(['--dir', dir, 'shell-init']);
  expect(r.code, r.stderr).toBe(0);
  const init = join(dir, 'init.sh');
  writeFileSync(init, r.stdout);
  const bash = (script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    spawnSync('bash', ['-c', `source "${init}" && ${script}`, 'bash', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const lines = () => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').slice(0, -1);
  return { dir, bash, lines };
}

/** Text argv can carry: no NUL, no lone surrogate. */
const carried = (s: string) => !s.includes('\u0000') && s.isWellFormed();
const adversarial = fc.oneof(
  fc.constantFrom('42.', '007', '-', '1e5', '', '-0', '0.5', '1.5e-3', '1E+2', '.5', '5.', '+1', '0x10', 'NaN', 'true', 'null',
    '"', '\\', '\\"', 'a"b\\c', '\n', '\r\n', '\t', '\u0001', '\u001f', '\u007f', 'é', '☃', '😀', 'key=value', "it's", '$HOME', '`id`', '%s%n'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\t', '\u0002', 'a', 'é', '😀', '=', ' '), maxLength: 30 }),
  fc.double({ noNaN: true }).map(String),
  fc.integer().map(String),
).filter(carried);
const key = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })
  .filter((k) => carried(k) && !k.includes('=') && !['ts', 'ts_epoch', 'type'].includes(k));

describe('shell-init: jm_emit for bash writers', () => {
  it('every line JSON.parses to exactly the values given, numbers only when JSON numbers (property, runs bash)', () => {
    const { bash, lines } = emitter();
    let n = 0;
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter(carried),
        fc.uniqueArray(fc.tuple(key, adversarial), { selector: ([k]) => k, maxLength: 8 }),
        fc.constantFrom('C', 'C.UTF-8'),
        (type, fields, locale) => {
          const r = bash('jm_emit "$@"', [type, ...fields.map(([k, v]) => `${k}=${v}`)], { LC_ALL: locale });
          expect(r.status, r.stderr).toBe(0);
          n++;
          const all = lines();
          expect(all).toHaveLength(n);
          const got = JSON.parse(all.at(-1)!);
          // As own properties, as JSON.parse makes them: assigning want['__proto__'] would set the prototype instead.
          const want = Object.fromEntries([['type', type], ...fields.map(([k, v]) => [k, JSON_NUMBER.test(v) ? Number(v) : v])]);
          const { ts, ts_epoch, ...rest } = got;
          expect(rest).toEqual(want);
          expect(Date.parse(ts) / 1000).toBe(ts_epoch);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the adversarial values of the issue, one by one, and the mirror takes every line', () => {
    const { dir, bash, lines } = emitter();
    const values = ['42.', '007', '-', '1e5', '', 'say "hi"', 'back\\slash', 'new\nline', 'tab\there', 'bell\u0007', 'ünïcödé ☃ 😀'];
    const r = bash('for v in "$@"; do jm_emit probe "v=$v" || exit 1; done', values);
    expect(r.status, r.stderr).toBe(0);
    expect(lines().map((l) => JSON.parse(l).v)).toEqual([ '42.', '007', '-', 100000, '', ...values.slice(5)]);
    const imp = cli(['--dir', dir, 'import', '--json']);
    expect(imp.json).toMatchObject({ rows: values.length, rejects: 0 });
  });

  it('a line of 60,000 bytes is one write() (strace), so concurrent writers cannot interleave within it', () => {
    const { bash, dir } = emitter();
    if (spawnSync('strace', ['-V']).status !== 0) throw new Error('strace is missing: run .ci/system-deps (it installs Debian\'s strace)');
    const trace = join(dir, 'trace');
    const r = spawnSync('strace', ['-f', '-e', 'trace=write', '-o', trace, 'bash', '-c',
      `source "${join(dir, 'init.sh')}" && jm_emit big "v=$V" && jm_emit small v=1`], {
      encoding: 'utf8', env: { ...process.env, V: 'x'.repeat(60_000) },
    });
    expect(r.status, r.stderr).toBe(0);
    // The log is each writer's stdout (fd 1) by redirection; bash also writes the here-string into a pipe, on another fd.
    const writes = readFileSync(trace, 'utf8').split('\n').filter((l) => /^\d+\s+write\(1, "\{\\"ts/.test(l));
    expect(writes).toHaveLength(2);
    expect(writes[0]).toMatch(/= 600\d\d$/);
  });

  it('refuses misuse with a message and writes nothing', () => {
    const { bash, dir } = emitter();
    expect(bash('jm_emit').stderr).toMatch(/usage: jm_emit TYPE/);
    expect(bash('jm_emit t novalue').stderr).toMatch(/"novalue" is not key=value/);
    expect(bash('jm_emit t ts=1').stderr).toMatch(/key "ts" is reserved/);
    expect(bash('jm_emit t ts=1').status).toBe(2);
    expect(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout).not.toMatch(/events\.jsonl/);
  });
});
