import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, truncateSync, utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { LineCursor } from '../src/ingest/held.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { doctor } from '../src/ops/doctor.js';
import { verifyMirror } from '../src/ops/verify.js';
import { createReader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/api.js';
import { createTailer } from '../src/tailer/tailer.js';
import { createWriter } from '../src/writer/writer.js';
import { CLI, cli, insertRawEvent, ROOT, tmp, withSql } from './helpers.js';

/** The lines: {"ts_epoch":1767225600,"type":"x","id":N} */
const x = (i: number): string => `{"ts_epoch":1767225600,"type":"x","id":${i}}\n`;
const stage = (i: number): string => `{"ts_epoch":${1767225600 + i},"type":"stage.completed","stage":"build","duration_s":${i},"id":${i}}\n`;
const range = (a: number, b: number, f: (i: number) => string): string => Array.from({ length: b - a + 1 }, (_, k) => f(a + k)).join('');

function q<T>(db: string, sql: string): T[] {
  return withSql(db, (conn) => conn.prepare(sql).all() as T[]);
}
const ids = (db: string): number[] => q<{ line: string }>(db, 'SELECT line FROM events').map((r) => JSON.parse(r.line).id as number).sort((a, b) => a - b);
/** Rows in the mirror, or -1 while it is still being created by another process. */
function rowCount(db: string): number {
  try {
    return existsSync(db) ? ids(db).length : -1;
  } catch {
    return -1;
  }
}
const seq = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, k) => a + k);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function verified(store: Store, dir: string): void {
  expect(verifyMirror(store, dir).problems).toEqual([]);
}

describe('1. a rewrite rotation that keeps a suffix (tail -n 5000 > tmp && mv tmp log, as Shipwright rotates)', () => {
  it('import: 110 rows for 110 lines, and verify passes', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    writeFileSync(log, range(1, 100, x));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    execFileSync('sh', ['-c', 'tail -n 50 events.jsonl > events.jsonl.rotating && mv events.jsonl.rotating events.jsonl'], { cwd: dir });
    appendFileSync(log, range(101, 110, x));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(ids(join(dir, 'mirror.db'))).toEqual(seq(1, 110));
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
  });

  it('with the tailer running: 110 rows, and SQLite answers what the scan answers', async () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const db = join(dir, 'mirror.db');
    const deploy = (i: number) => `{"ts_epoch":${1767225600 + i * 3600},"type":"pipeline.completed","result":"success","id":${i}}\n`;
    writeFileSync(log, range(1, 100, deploy));
    const t = createTailer({ dir, pollIntervalMs: 50, onError: () => {} });
    await t.start();
    try {
      await until('the first 100', () => rowCount(db) === 100);
      execFileSync('sh', ['-c', 'tail -n 50 events.jsonl > events.jsonl.rotating && mv events.jsonl.rotating events.jsonl'], { cwd: dir });
      await sleep(150);
      appendFileSync(log, range(101, 110, deploy));
      await until('the 10 new lines', () => rowCount(db) >= 110);
      await sleep(300);
      await t.idle();
    } finally {
      await t.stop();
    }
    expect(ids(db)).toEqual(seq(1, 110));
    const now = 1767225600 + 111 * 3600;
    const fromSqlite = createReader({ dir, source: 'sqlite' });
    const fromScan = createReader({ dir, source: 'scan' });
    // The scan sees only the 60 lines the files still hold; SQLite holds the history too: compare over what both see.
    expect(fromSqlite.doraGrades({ now, period: 2 })).toEqual(fromScan.doraGrades({ now, period: 2 }));
    fromSqlite.close();
    fromScan.close();
  });

  it('a suffix kept twice (two rotations) is still held once, through the generation that continued it', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(log, range(1, 100, x));
    ingestStream(store, dir, 'events');
    execFileSync('sh', ['-c', 'tail -n 50 events.jsonl > r && mv r events.jsonl'], { cwd: dir });
    appendFileSync(log, range(101, 110, x));
    ingestStream(store, dir, 'events');
    execFileSync('sh', ['-c', 'tail -n 30 events.jsonl > r && mv r events.jsonl'], { cwd: dir });
    appendFileSync(log, range(111, 115, x));
    ingestStream(store, dir, 'events');
    expect(ids(join(dir, 'mirror.db'))).toEqual(seq(1, 115));
    verified(store, dir);
    store.close();
  });
});

describe('2. copytruncate with a line written between the copy and the truncate', () => {
  it('11 rows and day_totals 11 for 11 lines, and verify passes', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const db = join(dir, 'mirror.db');
    writeFileSync(log, range(1, 10, stage));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    copyFileSync(log, `${log}.1`);
    appendFileSync(log, stage(11));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    truncateSync(log, 0);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(ids(db)).toEqual(seq(1, 11));
    expect(q<{ n: number }>(db, 'SELECT SUM(n) AS n FROM day_totals')).toEqual([{ n: 11 }]);
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
  });

  it('the same without an ingest between the copy and the truncate: the copy continues where the mirror stopped', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(log, range(1, 10, x));
    ingestStream(store, dir, 'events');
    appendFileSync(log, x(11));
    copyFileSync(log, `${log}.1`);
    appendFileSync(log, x(12)); // between copy and truncate: lost from the files, as with logrotate
    truncateSync(log, 0);
    appendFileSync(log, x(13));
    ingestStream(store, dir, 'events');
    expect(ids(join(dir, 'mirror.db'))).toEqual([...seq(1, 11), 13]);
    verified(store, dir);
    store.close();
  });
});

describe('3. a truncate landing inside an ingest pass', () => {
  it('the checkpoint marker comes from the bytes read, so the copy is not read again (15 lines, 15 rows)', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(log, range(1, 5, x));
    ingestStream(store, dir, 'events');
    appendFileSync(log, range(6, 15, x));
    let done = false;
    // copytruncate right after the ingest read the new lines, before it commits their checkpoint.
    const read = (fd: number, buf: Buffer, off: number, len: number, pos: number): number => {
      const n = readSync(fd, buf, off, len, pos);
      if (!done && len > 64) {
        done = true;
        copyFileSync(log, `${log}.1`);
        truncateSync(log, 0);
      }
      return n;
    };
    ingestStream(store, dir, 'events', { read });
    expect(done).toBe(true);
    ingestStream(store, dir, 'events');
    expect(ids(join(dir, 'mirror.db'))).toEqual(seq(1, 15));
    verified(store, dir);
    store.close();
  });
});

describe('4. a file rewritten in place with the same length, first KiB and last 64 bytes', () => {
  it('is read again: its changed lines are mirrored, its unchanged lines are not mirrored twice', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    const fixed = (i: number) => `{"ts_epoch":1767225600,"type":"x","id":${i},"pad":"${'p'.repeat(4 - String(i).length)}"}\n`;
    writeFileSync(log, range(1, 100, fixed));
    ingestStream(store, dir, 'events');
    const before = readFileSync(log);
    // Lines 26..93 (68 lines) become lines 1026..1093 of the same length; the first KiB and the last 64 bytes stay.
    writeFileSync(log, range(1, 25, fixed) + range(1026, 1093, fixed) + range(94, 100, fixed));
    const after = readFileSync(log);
    expect(after.length).toBe(before.length);
    expect(after.subarray(0, 1024).equals(before.subarray(0, 1024))).toBe(true);
    expect(after.subarray(-64).equals(before.subarray(-64))).toBe(true);
    utimesSync(log, new Date(), new Date(Date.now() + 5000)); // the rewrite moved the mtime
    ingestStream(store, dir, 'events');
    const got = q<{ line: string }>(store.path, 'SELECT line FROM events').map((r) => Number(JSON.parse(r.line).id));
    // The old lines 26..93 stay as the history of the replaced generation, like a truncated file's.
    expect(got.sort((a, b) => a - b)).toEqual([...seq(1, 100), ...seq(1026, 1093)]);
    verified(store, dir);
    store.close();
  });

  it('a touch (mtime moved, content the same) changes nothing', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(log, range(1, 30, x));
    ingestStream(store, dir, 'events');
    utimesSync(log, new Date(), new Date(Date.now() + 5000));
    expect(ingestStream(store, dir, 'events').rows).toBe(0);
    expect(withSql(store.path, (db) => db.prepare("SELECT COUNT(*) AS n FROM sources WHERE state = 'active'").get())).toEqual({ n: 1 });
    verified(store, dir);
    store.close();
  });
});

describe('5. a short write (disk full) during append', () => {
  /** Runs `append` with a file size limit, so that the write of the line stops part-way, as on a full disk. */
  function appendLimited(dir: string, limitBlocks: number, event: string) {
    const script = `trap '' XFSZ; ulimit -f ${limitBlocks}; exec "$0" "$@"`;
    return spawnResult('bash', ['-c', script, process.execPath, CLI, '--dir', dir, 'append', 'events', event]);
  }
  function spawnResult(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('fails with a typed error; the next append ends the fragment first, which becomes one reject, and its event stays whole', async () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    writeFileSync(log, `${'{"type":"pad","p":"'.padEnd(1000, 'p')}"}\n`);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const r = await appendLimited(dir, 1, `{"type":"cut","pad":"${'c'.repeat(200)}"}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/short write to .*events.jsonl: 21 of \d+ bytes \(disk full\?\); free space and append again/);
    const size = readFileSync(log).length;
    expect(size).toBe(1024); // the fragment: the line was cut at the limit
    // Space is back a while later: the fragment has been idle past the grace period.
    utimesSync(log, new Date(), new Date(Date.now() - 120_000));
    const ok = cli(['--dir', dir, 'append', 'events', '{"type":"whole"}']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/mirrored 1/);
    const db = join(dir, 'mirror.db');
    expect(q<{ type: string }>(db, 'SELECT type FROM events ORDER BY id').map((e) => e.type)).toEqual(['pad', 'whole']);
    expect(q<{ reason: string }>(db, 'SELECT reason FROM rejects')).toEqual([{ reason: 'invalid_json' }]);
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
  });

  it('a line another program is still writing (not idle) is left alone', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    writeFileSync(log, '');
    importAll(openStore(join(dir, 'mirror.db')), dir);
    writeFileSync(log, '{"type":"being","written":'); // another program's line, in progress
    const w = createWriter({ dir, onProblem: () => {} });
    w.append('events', { type: 'mine' });
    w.close();
    expect(readFileSync(log, 'utf8')).toMatch(/^\{"type":"being","written":\{"ts":/); // left alone (glued, as that program's own race)
  });
});

describe('6. a rotated file whose unterminated line is finished after the grace period', () => {
  it('the provisional reject is replaced by the complete line: one event, no reject', () => {
    const dir = tmp();
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(join(dir, 'events.jsonl.1'), `${x(1)}{"ts_epoch":1767225600,"type":"x",`);
    writeFileSync(join(dir, 'events.jsonl'), x(3));
    utimesSync(join(dir, 'events.jsonl.1'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000)); // idle for two minutes
    const t1 = ingestStream(store, dir, 'events');
    expect(t1.rejects).toBe(1);
    appendFileSync(join(dir, 'events.jsonl.1'), '"id":2}\n'); // its writer still had it open
    ingestStream(store, dir, 'events');
    expect(ids(join(dir, 'mirror.db'))).toEqual([1, 2, 3]);
    expect(withSql(store.path, (db) => db.prepare('SELECT COUNT(*) AS n FROM rejects').get())).toEqual({ n: 0 });
    expect(withSql(store.path, (db) => db.prepare("SELECT rejects, rows FROM sources WHERE path = 'events.jsonl.1'").get())).toEqual({ rejects: 0, rows: 2 });
    verified(store, dir);
    store.close();
  });
});

describe('7. an event nested 10,000 levels deep', () => {
  const deep = `{"ts_epoch":1767225600,"type":"deep","d":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;

  it('tail --feed prints it and the rest of its batch', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '');
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--feed', '--poll-interval', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    await sleep(800);
    appendFileSync(join(dir, 'events.jsonl'), `${x(1)}${deep}\n${x(2)}`);
    await until('the feed', () => out.split('\n').length >= 4);
    p.kill('SIGTERM');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toEqual([x(1).trim(), deep, x(2).trim()]);
  });

  it('metrics activity --json answers on both backends, the deep field as its JSON text', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), `${x(1)}${deep}\n`);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    for (const source of ['sqlite', 'scan']) {
      const r = cli(['--dir', dir, 'metrics', 'activity', '--json', '--source', source]);
      expect(r.code).toBe(0);
      expect(r.json.events[0]).toEqual({ ts_epoch: 1767225600, type: 'deep', d: deep.slice(deep.indexOf('[['), -1) });
      expect(r.json.events[1]).toEqual({ ts_epoch: 1767225600, type: 'x', id: 1 });
    }
  });
});

describe('8. files named like logs that are not regular files', () => {
  it('a FIFO and a directory are skipped with one warning each, and every other stream is imported', () => {
    const dir = tmp();
    execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
    mkdirSync(join(dir, 'folder.jsonl'));
    writeFileSync(join(dir, 'events.jsonl'), x(1));
    writeFileSync(join(dir, 'zz.jsonl'), x(2));
    const r = cli(['--dir', dir, 'import']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/skipped .*folder\.jsonl: it is a directory, not a log file/),
      expect.stringMatching(/skipped .*pipe\.jsonl: it is a FIFO, not a log file/),
    ]);
    expect(ids(join(dir, 'mirror.db'))).toEqual([1, 2]);
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
    expect(cli(['--dir', dir, 'metrics', 'activity', '--source', 'scan', '--stream', 'pipe', '--json']).json.events).toEqual([]);
  });

  it('the tailer keeps following the other streams, warns once per file, and stops on SIGTERM', async () => {
    const dir = tmp();
    execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
    mkdirSync(join(dir, 'folder.jsonl'));
    writeFileSync(join(dir, 'events.jsonl'), x(1));
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const db = join(dir, 'mirror.db');
    await until('the first line', () => rowCount(db) === 1);
    appendFileSync(join(dir, 'events.jsonl'), x(2));
    await until('the next line', () => rowCount(db) === 2);
    await sleep(500);
    p.kill('SIGTERM');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    expect(err.match(/pipe\.jsonl/g)).toHaveLength(1);
    expect(err.match(/folder\.jsonl/g)).toHaveLength(1);
  });
});

describe('9. --source auto when the mirror cannot catch up', () => {
  it('answers from the files and says why; --max-lag accepts a bounded lag and says how far behind', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const db = join(dir, 'mirror.db');
    writeFileSync(log, range(1, 3, (i) => `{"ts_epoch":${1767225600 + i},"type":"stage.completed","stage":"build","duration_s":10}\n`));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    appendFileSync(log, range(4, 6, (i) => `{"ts_epoch":${1767225600 + i},"type":"stage.completed","stage":"test","duration_s":20}\n`));
    // Another process holds the write lock: the read cannot catch up.
    withSql(db, (holder) => {
      holder.prepare('BEGIN IMMEDIATE').run();
      try {
        const now = String(1767225600 + 100);
        const scan = cli(['--dir', dir, 'metrics', 'stages', '--json', '--now', now, '--source', 'scan']);
        const auto = cli(['--dir', dir, 'metrics', 'stages', '--json', '--now', now]);
        expect(auto.code).toBe(0);
        expect(auto.json).toEqual(scan.json);
        expect(auto.stderr).toMatch(/could not catch up \(another process holds its write lock\).*answered from the files/);
        const lagged = cli(['--dir', dir, 'metrics', 'stages', '--json', '--now', now, '--max-lag', '1h']);
        expect(lagged.json.stages.map((s: { name: string }) => s.name)).toEqual(['build']);
        expect(lagged.stderr).toMatch(/answered from SQLite \d+ B \(\d+\.\d s\) behind the files/);
      } finally {
        holder.prepare('ROLLBACK').run();
      }
    });
  });
});

describe('10. typed errors with a fix, exit 1', () => {
  it('tail on a read-only mirror', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), x(1));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    // Root ignores file modes, so the mirror is made read-only by opening it so (better-sqlite3 with readonly: true).
    const shim = join(tmp(), 'readonly-sqlite.cjs');
    writeFileSync(shim, `const Real = require(${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3'))});
module.exports = function Database(path, opts) { return new Real(path, { ...opts, readonly: true, fileMustExist: true }); };\n`);
    const r = cli(['--dir', dir, 'tail', '--json'], { env: { JSONL_MIRROR_SQLITE_MODULE: shim } });
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('DB_READONLY');
    expect(r.stderr).toMatch(/cannot open .*mirror.db for writing.*permissions, or pass --db with a writable path/);
  });

  it('tail waits for a mirror another process holds locked, then runs', async () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    writeFileSync(join(dir, 'events.jsonl'), x(1));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    let err = '';
    const p = await withSql(db, async (holder) => {
      holder.prepare('BEGIN IMMEDIATE').run();
      const tail = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
      tail.stderr.on('data', (d) => (err += d));
      await sleep(6000); // past the 5 s busy timeout
      expect(tail.exitCode).toBeNull();
      holder.prepare('ROLLBACK').run();
      return tail;
    });
    appendFileSync(join(dir, 'events.jsonl'), x(2));
    await until('the tailer', () => rowCount(db) === 2);
    p.kill('SIGTERM');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    expect(err).toMatch(/is locked by another process; waiting for it/);
  }, 20_000);

  it('a full disk during import is DISK_FULL with its fix, not a crash', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), range(1, 5000, x));
    const store = openStore(join(dir, 'mirror.db'));
    // SQLite's own way to make a database run out of space. The limit belongs to a connection, not to the file, so it is
    // set on the store's own (private) one: a second connection cannot impose it, and the store has no method for it.
    (store as unknown as { db: { pragma(sql: string): unknown } }).db.pragma('max_page_count = 40');
    expect(() => importAll(store, dir)).toThrow(expect.objectContaining({ code: 'DISK_FULL', message: expect.stringMatching(/free disk space/) }));
    store.close();
  });
});

describe('11. append - through rotations', () => {
  it('counts every appended event as mirrored or left for the next ingest', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const p = spawn(process.execPath, [CLI, '--dir', dir, 'append', 'events', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    let n = 0;
    // Appends keep coming while the files rotate, so that batches are open when a rotation is noticed.
    for (let round = 0; round < 8; round++) {
      for (let j = 0; j < 15; j++) {
        for (let i = 0; i < 20; i++) p.stdin.write(`{"type":"x","id":${++n}}\n`);
        await sleep(10);
      }
      const live = join(dir, 'events.jsonl');
      for (let k = round; k >= 1; k--) if (existsSync(`${live}.${k}`)) renameSync(`${live}.${k}`, `${live}.${k + 1}`);
      renameSync(live, `${live}.1`);
      writeFileSync(live, '');
    }
    p.stdin.end();
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    const r = JSON.parse(out);
    expect(r.appended).toBe(n);
    expect(r.mirrored + r.skipped).toBe(n);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(ids(join(dir, 'mirror.db'))).toEqual(seq(1, n));
  });
});

describe('verify and doctor find one logical line mirrored twice through two generations', () => {
  function mirrorWithSuffixRotation() {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    const store = openStore(join(dir, 'mirror.db'));
    writeFileSync(log, range(1, 10, x));
    ingestStream(store, dir, 'events');
    execFileSync('sh', ['-c', 'tail -n 3 events.jsonl > r && mv r events.jsonl'], { cwd: dir });
    appendFileSync(log, x(11));
    ingestStream(store, dir, 'events');
    verified(store, dir);
    return { dir, store };
  }

  it('a row inserted directly for a line the new generation holds from the old one', () => {
    const { dir, store } = mirrorWithSuffixRotation();
    withSql(store.path, (db) => {
      const live = db.prepare("SELECT * FROM sources WHERE state = 'active'").get() as { id: number; stream: string; rank: number };
      insertRawEvent(db, { sourceId: live.id, offset: 0, stream: live.stream, rank: live.rank, type: 'x', ts_epoch: 1767225600, line: x(8).trim() });
    });
    const r = verifyMirror(store, dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ path: 'events.jsonl', offset: 0, problem: 'duplicate' })]);
    expect(doctor(store, dir).checks.find((c) => c.name === 'duplicates')).toMatchObject({ ok: false });
    store.close();
  });

  it('a mirror whose new generation re-mirrored the kept lines (as before this fix): verify fails naming them, doctor too', () => {
    const { dir, store } = mirrorWithSuffixRotation();
    withSql(store.path, (db) => {
      const live = db.prepare("SELECT * FROM sources WHERE state = 'active'").get() as { id: number; stream: string; rank: number };
      // Forget what the new generation holds and give it rows of its own for the three kept lines.
      db.prepare('UPDATE sources SET copy_of = NULL, held_at = 0, held_len = 0 WHERE id = ?').run(live.id);
      let offset = 0;
      for (const i of [8, 9, 10]) {
        insertRawEvent(db, { sourceId: live.id, offset, stream: live.stream, rank: live.rank, type: 'x', ts_epoch: 1767225600, line: x(i).trim() });
        offset += x(i).length;
      }
    });
    const r = verifyMirror(store, dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ path: 'events.jsonl', offset: 0, problem: 'duplicate', detail: expect.stringMatching(/^3 lines .* mirrored twice/) })]);
    const d = doctor(store, dir);
    expect(d.ok).toBe(false);
    expect(d.checks.find((c) => c.name === 'duplicates')).toMatchObject({ ok: false, fix: expect.stringMatching(/rebuild/) });
    store.close();
  });
});

describe('a file that cannot be read', () => {
  it('a directory named like a log does not stop import; verify passes over it', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'events.jsonl.1'));
    writeFileSync(join(dir, 'events.jsonl'), x(1));
    const fd = openSync(join(dir, 'events.jsonl'), 'r');
    closeSync(fd);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(cli(['--dir', dir, 'verify']).code).toBe(0);
  });
});

describe('comparing lines of a file truncated meanwhile', () => {
  it('the line cursor sees the end of the file instead of waiting for bytes that are gone (a tailer once hung here)', () => {
    const f = join(tmp(), 'events.jsonl');
    writeFileSync(f, 'x'.repeat(100));
    const fd = openSync(f, 'r');
    const cursor = new LineCursor(fd, 100, 1024);
    truncateSync(f, 0);
    expect(cursor.at(0)).toBeUndefined();
    closeSync(fd);
  });
});

describe('status and doctor after rotations that leave copies', () => {
  it('a copytruncate copy whose lines are all held is not shown as unmirrored, and doctor passes', () => {
    const dir = tmp();
    const log = join(dir, 'events.jsonl');
    writeFileSync(log, range(1, 5, x));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    mkdirSync(join(dir, 'other.jsonl'));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const status = cli(['--dir', dir, 'status', '--json']).json;
    expect(status.files.filter((f: { state: string }) => f.state === 'unmirrored')).toEqual([]);
    expect(status.totals.behindBytes).toBe(0);
    const d = cli(['--dir', dir, 'doctor', '--json']);
    expect(d.code).toBe(0);
  });
});
