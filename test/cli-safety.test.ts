import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLI, cli, FIXTURES, tmp, type CliResult } from './helpers.js';

/** Issue 11, part A: every command is run as a user would, through the built binary. */

const sha = (p: string) => createHash('sha1').update(readFileSync(p)).digest('hex');
const listing = (dir: string) => readdirSync(dir).sort();

/** A folder with one real Shipwright log, imported (the mirror closed cleanly: no -wal left). */
function mirrored(): string {
  const dir = tmp();
  copyFileSync(join(FIXTURES, 'shipwright/events-a.jsonl'), join(dir, 'events.jsonl'));
  const imported = cli(['--dir', dir, 'import']);
  expect(imported.code, imported.stderr).toBe(0);
  return dir;
}

/** A failure as the CLI promises it: exit 1, one line on stderr naming the problem, no stack trace. */
function expectOneLine(r: CliResult, why: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^jsonl-mirror: /);
  expect(lines[0]).toMatch(why);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const appIdOf = (db: string) => readFileSync(db).readUInt32BE(68);

describe('1. --db only ever moves a file that is provably our mirror', () => {
  it('--db naming the log, or a text file: refused, every file byte-identical and in place', () => {
    const dir = mirrored();
    writeFileSync(join(dir, 'notes.txt'), 'my notes\n');
    const before = Object.fromEntries(listing(dir).map((f) => [f, sha(join(dir, f))]));
    const runs = [
      ['--db', join(dir, 'events.jsonl'), 'metrics', 'dora'],
      ['--db', join(dir, 'events.jsonl'), 'status'],
      ['--db', join(dir, 'events.jsonl'), 'import'],
      ['--db', join(dir, 'notes.txt'), 'status'],
      ['--db', join(dir, 'notes.txt'), 'import'],
      ['--db', join(dir, 'notes.txt'), 'rebuild', '--yes'],
      ['--db', join(dir, 'notes.txt'), 'metrics', 'dora', '--source', 'sqlite'],
    ];
    for (const args of runs) {
      const r = cli(['--dir', dir, ...args]);
      if (args.includes('metrics') && !args.includes('sqlite')) {
        expect(r.code).toBe(0); // auto reads the files instead, and says why
        expect(r.stderr).toMatch(/named like a log file|not a SQLite database/);
      } else {
        expectOneLine(r, /named like a log file|is not a SQLite database, so not a jsonl-mirror mirror; nothing was changed|does not prove it is a jsonl-mirror mirror, so it was left untouched/);
      }
    }
    expect(Object.fromEntries(listing(dir).map((f) => [f, sha(join(dir, f))]))).toEqual(before);
  });

  it('a corrupt mirror that is provably ours: a read command leaves it, a writing command moves it aside', () => {
    const dir = mirrored();
    const db = join(dir, 'mirror.db');
    expect(appIdOf(db)).toBe(0x4a4d4952);
    // Damage every page but the header page: the header still proves whose file it is.
    const buf = readFileSync(db);
    const page = buf.readUInt16BE(16);
    for (let i = page; i < buf.length; i++) buf[i] = (i * 7919) % 251;
    writeFileSync(db, buf);
    for (const read of [['status'], ['verify'], ['query', 'SELECT COUNT(*) FROM events'], ['export'], ['doctor']]) {
      const r = cli(['--dir', dir, ...read]);
      expect(r.code, `${read[0]}: ${r.stderr}`).toBe(1);
      expect(listing(dir).filter((f) => f.includes('corrupt-')), read[0]).toEqual([]);
    }
    const r = cli(['--dir', dir, 'import', '--json']);
    expect(r.json.error.code).toBe('DB_CORRUPT');
    expect(r.stderr).toMatch(/moved it aside to .*mirror\.db\.corrupt-/);
    expect(listing(dir).filter((f) => f.includes('corrupt-'))).toHaveLength(1);
  });

  it('a mirror of an earlier version (no application_id) is recognised by its schema table and marked by a writing command only', () => {
    const dir = mirrored();
    const path = join(dir, 'mirror.db');
    const d = new Database(path);
    d.pragma('application_id = 0');
    d.pragma('wal_checkpoint(TRUNCATE)');
    d.close();
    expect(appIdOf(path)).toBe(0);
    expect(cli(['--dir', dir, 'status']).code).toBe(0);
    expect(appIdOf(path)).toBe(0); // a read does not write, not even the mark
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(appIdOf(path)).toBe(0x4a4d4952);
  });
});

describe('2. a foreign SQLite database is never adopted', () => {
  it('refused by every command, its tables untouched', () => {
    const dir = mirrored();
    const other = join(dir, 'other.db');
    const d = new Database(other);
    d.exec("CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'ada')");
    d.close();
    const before = sha(other);
    for (const args of [['metrics', 'dora', '--source', 'sqlite'], ['import'], ['migrate'], ['rebuild', '--yes'], ['status'], ['tail']]) {
      expectOneLine(cli(['--dir', dir, '--db', other, ...args]), /another application \(tables: users\).*nothing was changed/);
    }
    const auto = cli(['--dir', dir, '--db', other, 'metrics', 'dora']);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toMatch(/another application.*reading the files/);
    expect(sha(other)).toBe(before);
    expect(listing(dir).filter((f) => f.startsWith('other.db'))).toEqual(['other.db']);
  });

  it('a SQLite file another application marked with its application_id is refused even when empty', () => {
    const dir = mirrored();
    const other = join(dir, 'app.db');
    const d = new Database(other);
    d.pragma('application_id = 1234');
    d.close();
    expectOneLine(cli(['--dir', dir, '--db', other, 'import']), /belongs to another application \(application_id 0x4d2\)/);
  });
});

/**
 * Runs the CLI as a user who may read the folder but not write it: as root,
 * as uid 65534 (nobody); otherwise with the folder made read-only (the owner
 * then cannot write it either). Returns why neither works, to be printed.
 */
function asReader(dir: string, o: { otherUser?: boolean } = {}): { run: (args: string[]) => CliResult; why?: string } {
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const root = process.getuid?.() === 0;
  if (o.otherUser && !root) {
    return { run: () => ({ code: -1, stdout: '', stderr: '', json: undefined }), why: 'it needs a second user (run the tests as root): a file\'s owner can always read it' };
  }
  if (!root) chmodSync(dir, 0o555);
  const run = (args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(root ? { uid: 65534, gid: 65534 } : {}) });
    let json: unknown;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr ?? String(r.error), json };
  };
  const probe = run(['--version']);
  if (probe.code !== 0) return { run, why: `cannot run the CLI as a user without write access (${probe.stderr.trim()})` };
  const canWrite = spawnSync('sh', ['-c', `touch "${dir}/probe" 2>/dev/null && echo yes`], {
    encoding: 'utf8', ...(root ? { uid: 65534, gid: 65534 } : {}),
  }).stdout.trim();
  if (canWrite === 'yes') return { run, why: 'the reader can still write the folder (a filesystem that ignores permissions)' };
  return { run };
}

describe('3. read commands work for a user who cannot write the folder', () => {
  it('status, verify, doctor, query, export and metrics read a WAL mirror that has no -shm', () => {
    const dir = mirrored();
    expect(existsSync(join(dir, 'mirror.db-shm'))).toBe(false);
    const reader = asReader(dir);
    try {
      if (reader.why) {
        console.warn(`read-only test not run: ${reader.why}`);
        expect(reader.why).toMatch(/./);
        return;
      }
      const before = listing(dir);
      for (const args of [['status'], ['verify'], ['doctor'], ['query', 'SELECT COUNT(*) AS n FROM events', '--json'], ['export'], ['metrics', 'dora']]) {
        const r = reader.run(['--dir', dir, ...args]);
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
        expect(r.stderr).not.toMatch(/readonly database|attempt to write/);
        if (args[0] === 'query') expect(r.json).toEqual([{ n: 29_471 }]);
      }
      expect(listing(dir)).toEqual(before);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('while a writer holds the WAL: read through its -shm, or say exactly which files to open up', () => {
    const dir = mirrored();
    const writer = new Database(join(dir, 'mirror.db'));
    writer.prepare("INSERT INTO meta (key, value) VALUES ('probe', '1')").run(); // -wal and -shm exist while it is open
    const reader = asReader(dir, { otherUser: true });
    try {
      if (reader.why) {
        console.warn(`read-only test not run: ${reader.why}`);
        return;
      }
      chmodSync(join(dir, 'mirror.db-wal'), 0o644);
      chmodSync(join(dir, 'mirror.db-shm'), 0o644);
      expect(reader.run(['--dir', dir, 'status']).code).toBe(0);
      chmodSync(join(dir, 'mirror.db-wal'), 0o600);
      chmodSync(join(dir, 'mirror.db-shm'), 0o600);
      expectOneLine(reader.run(['--dir', dir, 'status']), /a writer has its -wal file open.*give this user read permission on .*mirror\.db-wal and -shm/);
    } finally {
      writer.close();
      chmodSync(dir, 0o755);
    }
  });

  it('a folder the reader may not even look into is named as the problem, not "no mirror"', () => {
    const dir = mirrored();
    const reader = asReader(dir, { otherUser: true });
    try {
      if (reader.why) {
        console.warn(`read-only test not run: ${reader.why}`);
        return;
      }
      chmodSync(dir, process.getuid?.() === 0 ? 0o711 : 0o311);
      chmodSync(join(dir, 'mirror.db'), 0o600);
      const r = reader.run(['--dir', dir, 'status']);
      expectOneLine(r, /cannot (read|access) .*mirror\.db.*permission/);
      expect(r.stderr).not.toMatch(/no mirror/);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

describe('4-5. bad values and usage errors: one line, exit 1, a JSON error document with --json', () => {
  const bad: [string[], RegExp][] = [
    [['metrics', 'dora', '--now', 'yesterday'], /--now takes epoch seconds or an ISO date, got "yesterday"/],
    [['metrics', 'dora', '--period', 'abc'], /--period takes a whole number/],
    [['metrics', 'dora', '--period', '-1'], /--period takes a whole number/],
    [['metrics', 'dora', '--period', '1.5'], /--period takes a whole number/],
    [['metrics', 'dora', '--period', '0'], /--period takes a whole number from 1 to 36500, got "0"/],
    [['metrics', 'timeline', '--range', '876001'], /--range takes a whole number from 1 to 876000, got "876001"/],
    [['metrics', 'activity', '--limit', '-3'], /--limit takes a whole number/],
    [['metrics', 'activity', '--issue', 'abc'], /--issue takes a number/],
    [['export', '--since', 'nope'], /--since takes epoch seconds or an ISO date/],
    [['frobnicate'], /unknown command 'frobnicate'.*--help/],
    [['status', '--frobnicate'], /unknown option '--frobnicate'.*--help/],
    [['query'], /missing required argument 'sql'/],
  ];
  for (const [args, why] of bad) {
    it(args.join(' '), () => {
      const dir = mirrored();
      expectOneLine(cli(['--dir', dir, ...args]), why);
      const j = cli(['--dir', dir, ...args, '--json']);
      expect(j.code).toBe(1);
      expect(j.json?.error?.code, j.stdout).toBe('INVALID_ARGUMENT');
      expect(j.json.error.message).toMatch(why);
    });
  }
});

describe('6. query streams its rows', () => {
  const many = (n: number, pad: number) =>
    `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ${n}) SELECT x, printf('%0${pad}d', x) AS pad FROM c`;

  for (const [flag, check] of [
    ['--nl', 'wc -l'],
    ['--json', 'tail -c 12'],
    ['--csv', 'wc -l'],
  ] as const) {
    it(`${flag}: 1,000,000 rows through a 48 MB heap (memory stays flat)`, () => {
      const dir = mirrored();
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" --max-old-space-size=48 "${CLI}" --dir "${dir}" query "$Q" ${flag} | ${check}`], {
        encoding: 'utf8', env: { ...process.env, Q: many(1_000_000, 200) },
      });
      expect(r.status, r.stderr.slice(0, 500)).toBe(0);
      if (flag === '--nl') expect(r.stdout.trim()).toBe('1000000');
      if (flag === '--csv') expect(r.stdout.trim()).toBe('1000001');
      if (flag === '--json') expect(r.stdout).toMatch(/1000000"\}\]\n$/);
    });
  }

  it('the table of 8,000 wide rows of the real log is drawn at once (it took 29 s)', { timeout: 30_000 }, () => {
    const dir = mirrored();
    const r = cli(['--dir', dir, 'query', 'SELECT * FROM events LIMIT 8000']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('8,000 rows');
    expect(lines).toHaveLength(8000 + 4);
    expect(new Set(lines.slice(0, -1).map((l) => [...l].length)).size).toBe(1); // every line of the box as wide as the others
  });

  it('1 row is "1 row"; --csv and --json together are refused', () => {
    const dir = mirrored();
    expect(cli(['--dir', dir, 'query', 'SELECT 1 AS one']).stdout.trimEnd().split('\n').at(-1)).toBe('1 row');
    expectOneLine(cli(['--dir', dir, 'query', 'SELECT 1', '--csv', '--json']), /choose one output format/);
  });
});

describe('7. rebuild and import see a deleted stream', () => {
  it('a deleted extra.jsonl is marked gone, and rebuild asks before dropping its rows', () => {
    const dir = mirrored();
    writeFileSync(join(dir, 'extra.jsonl'), '{"type":"a"}\n{"type":"b"}\n');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    rmSync(join(dir, 'extra.jsonl'));
    expectOneLine(cli(['--dir', dir, 'rebuild']), /holds 2 rows from files that were deleted.*rebuild --yes/);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const s = cli(['--dir', dir, 'status', '--json']);
    expect(s.json.files.find((f: { stream: string }) => f.stream === 'extra')).toMatchObject({ state: 'gone', rows: 2 });
    expect(cli(['--dir', dir, 'rebuild', '--yes']).code).toBe(0);
  });
});

describe('8. export never becomes a log', () => {
  it('stdout redirected to NAME.jsonl inside the log folder is refused before anything is written', () => {
    const dir = mirrored();
    const target = join(dir, 'x.jsonl');
    const fd = openSync(target, 'w');
    const r = spawnSync(process.execPath, [CLI, '--dir', dir, 'export'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/stdout is .*x\.jsonl, a log file of stream "x".*nothing was exported/);
    expect(statSync(target).size).toBe(0);
    const outside = join(tmp(), 'all.jsonl');
    const fd2 = openSync(outside, 'w');
    expect(spawnSync(process.execPath, [CLI, '--dir', dir, 'export'], { stdio: ['ignore', fd2, 'pipe'] }).status).toBe(0);
    closeSync(fd2);
    expect(readFileSync(outside, 'utf8').split('\n').length - 1).toBe(29_471);
  });
});

describe('9. an unterminated last line gets advice that changes something', () => {
  it("verify and doctor pass while a live file's last line is unfinished, and name waiting or import --final, not a plain import", () => {
    const dir = mirrored();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"half', { flag: 'a' });
    const v = cli(['--dir', dir, 'verify']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/verify passed: .*; 13 B of an unfinished last line wait for their newline/);
    expect(cli(['--dir', dir, '--json', 'verify']).json.advice).toMatch(/unterminated last line: wait for its writer to end it, or run jsonl-mirror import --final/);
    const d = cli(['--dir', dir, 'doctor', '--json']);
    expect(d.code).toBe(0);
    const lag = d.json.checks.find((c: { name: string }) => c.name === 'lag');
    expect(lag).toMatchObject({ ok: true });
    expect(lag.detail).toMatch(/13 B of an unfinished last line wait for their newline/);
    // Complete lines behind as well: both pieces of advice.
    writeFileSync(join(dir, 'events.jsonl'), '"}\n{"type":"x"}\n{"type":"half', { flag: 'a' });
    expect(cli(['--dir', dir, 'doctor', '--json']).json.checks.find((c: { name: string }) => c.name === 'lag').fix)
      .toMatch(/^jsonl-mirror import \(or run jsonl-mirror tail\); \d+ B are an unterminated last line/);
  });
});

describe('10-11. append refuses what could only become a reject or a wrong row', () => {
  it('an event over the line limit is refused before writing', () => {
    const dir = mirrored();
    const before = sha(join(dir, 'events.jsonl'));
    const big = JSON.stringify({ type: 'big', payload: 'x'.repeat(2 * 1024 * 1024) });
    const r = cli(['--dir', dir, 'append', 'events', '-', '--json'], { input: `${big}\n` });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ appended: 0, mirrored: 0 });
    expect(r.stderr).toMatch(/over the line limit of 1048576 bytes.*nothing was written/);
    expect(sha(join(dir, 'events.jsonl'))).toBe(before);
    expect(cli(['--dir', dir, 'query', "SELECT COUNT(*) AS n FROM rejects WHERE reason = 'line_too_long'", '--json']).json).toEqual([{ n: 0 }]);
  });

  it('an unparseable ts or ts_epoch is refused; the file is not created', () => {
    const dir = tmp();
    expectOneLine(cli(['--dir', dir, 'append', 'events', '{"type":"ok","ts":"garbage"}']), /"ts" must be an ISO date/);
    expectOneLine(cli(['--dir', dir, 'append', 'events', '{"type":"ok","ts_epoch":"soon"}']), /"ts_epoch" must be epoch seconds/);
    expect(listing(dir)).toEqual([]);
  });

  it('append events.jsonl takes stream events; a rotated file name is refused', () => {
    const dir = tmp();
    expect(cli(['--dir', dir, 'append', 'events.jsonl', '{"type":"x"}', '--no-mirror']).code).toBe(0);
    expect(listing(dir)).toEqual(['events.jsonl']);
    expectOneLine(cli(['--dir', dir, 'append', 'events.jsonl.1', '{"type":"x"}']), /is a log file, not a stream/);
    expect(listing(dir)).toEqual(['events.jsonl']);
  });

  const configs: [string, unknown, RegExp][] = [
    ['a misspelt top-level key', { price: { opus: { input: 1, output: 2 } } }, /unknown key "price" in the config/],
    ['a misspelt price field', { prices: { opus: { input: 1, ouput: 2 } } }, /unknown key "ouput" in the price of "opus"/],
    ['an unknown band', { bands: { mttr: [1, 2, 3] } }, /unknown key "mttr" in "bands"/],
    ['reversed cfr bands', { bands: { cfr: [15, 10, 5] } }, /band "cfr" \[15, 10, 5\] must list .* from lowest to highest/],
    ['reversed deploy_freq bands', { bands: { deploy_freq: [0.03, 0.14, 1] } }, /band "deploy_freq" .* from highest to lowest/],
  ];
  for (const [what, config, why] of configs) {
    it(`--config with ${what} is refused`, () => {
      const dir = mirrored();
      const path = join(tmp(), 'config.json');
      writeFileSync(path, JSON.stringify(config));
      expectOneLine(cli(['--dir', dir, 'metrics', 'dora', '--config', path]), why);
    });
  }
});

describe('12. messages that name the real problem', () => {
  it('--db a directory', () => {
    const dir = mirrored();
    expectOneLine(cli(['--dir', dir, '--db', dir, 'status']), /is a directory; pass --db with a file path/);
  });

  it('status on a mirror with corrupt pages says so and exits 1', () => {
    const dir = mirrored();
    const db = join(dir, 'mirror.db');
    const buf = readFileSync(db);
    const page = buf.readUInt16BE(16);
    // Scribble over one page in the middle of the events table's b-tree.
    const victim = Math.floor(buf.length / page / 2) * page;
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(page, 0x5a), 0, page, victim);
    closeSync(fd);
    const r = cli(['--dir', dir, 'status']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/damaged|corrupt/);
    expect(r.stdout).not.toMatch(/up to date with the files\n(?![\s\S]*damaged)/);
  });

  it('import in a folder with no logs refuses and creates nothing', () => {
    const dir = tmp();
    expectOneLine(cli(['--dir', dir, 'import']), /no logs in .*nothing was created/);
    expect(listing(dir)).toEqual([]);
  });

  it('migrate does not create a mirror where other commands refuse', () => {
    const dir = tmp();
    expectOneLine(cli(['--dir', dir, 'migrate']), /no mirror at .*run `jsonl-mirror import`/);
    expect(listing(dir)).toEqual([]);
  });
});
