import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createReader } from '../src/api/reader.js';
import { LATEST_VERSION, migrations } from '../src/store/migrations.js';
import { CLI, cli, mirrored, tmp } from './helpers.js';

const sha = (p: string) => createHash('sha1').update(readFileSync(p)).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** The lines the ingest keeps: JSON objects, as written. */
function validLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => {
    try {
      const v = JSON.parse(l);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    } catch {
      return false;
    }
  });
}

describe('query', () => {
  it('answers reads as a table, --json rows and --csv', () => {
    const dir = mirrored();
    const sql = "SELECT type, COUNT(*) AS n FROM events WHERE type LIKE 'pipeline.%' GROUP BY type ORDER BY type LIMIT 2";
    const j = cli(['--dir', dir, 'query', sql, '--json']);
    expect(j.code).toBe(0);
    expect(j.json).toHaveLength(2);
    expect(Object.keys(j.json[0])).toEqual(['type', 'n']);
    const csv = cli(['--dir', dir, 'query', sql, '--csv']).stdout.trim().split('\n');
    expect(csv[0]).toBe('type,n');
    expect(csv[1]).toBe(`${j.json[0].type},${j.json[0].n}`);
    expect(cli(['--dir', dir, 'query', 'PRAGMA table_info(events)', '--json']).json.length).toBeGreaterThan(10);
  });

  const refused: [string, string][] = [
    ['INSERT', "INSERT INTO meta VALUES ('k', 'v')"],
    ['UPDATE', "UPDATE lines SET line = 'x'"],
    ['DELETE', 'DELETE FROM event_rows'],
    ['REPLACE', "REPLACE INTO meta VALUES ('k', 'v')"],
    ['CREATE', 'CREATE TABLE t (x)'],
    ['DROP', 'DROP TABLE rejects'],
    ['ALTER', 'ALTER TABLE lines ADD COLUMN x'],
    ['CREATE INDEX', 'CREATE INDEX i ON lines(line)'],
    ['a write inside WITH', "WITH x AS (SELECT 1) INSERT INTO meta VALUES ('k', 'v')"],
    ['ATTACH', "ATTACH DATABASE '/tmp/jm-attach.db' AS other"],
    ['DETACH', 'DETACH DATABASE main'],
    ['VACUUM', 'VACUUM'],
    ['VACUUM INTO', "VACUUM INTO '/tmp/jm-vacuum-copy.db'"],
    ['a writing PRAGMA', 'PRAGMA user_version = 7'],
    ['a settings PRAGMA', 'PRAGMA writable_schema'],
    ['loading an extension', "SELECT load_extension('/tmp/evil.so')"],
    ['multiple statements', 'SELECT 1; DELETE FROM events'],
  ];
  for (const [what, sql] of refused) {
    it(`refuses ${what} before it runs, leaving the DB file byte-identical`, () => {
      const dir = mirrored();
      const db = join(dir, 'mirror.db');
      const before = sha(db);
      const r = cli(['--dir', dir, 'query', sql]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^jsonl-mirror: query refused: .*`query` only reads/);
      expect(sha(db)).toBe(before);
    });
  }

  it('a write to the events view fails in SQLite itself, one line naming the view, the file untouched', () => {
    const dir = mirrored();
    const db = join(dir, 'mirror.db');
    const before = sha(db);
    for (const sql of ["UPDATE events SET type = 'x'", 'DELETE FROM events', 'CREATE INDEX i ON events(line)']) {
      const r = cli(['--dir', dir, 'query', sql]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^jsonl-mirror: SQL error: .*view/);
      expect(sha(db)).toBe(before);
    }
  });
});

describe('export', () => {
  it('equals the valid lines of the logs, byte for byte: in file order, and as a set', () => {
    const dir = mirrored();
    const want = [...validLines(join(dir, 'events.jsonl.1')), ...validLines(join(dir, 'events.jsonl'))];
    const r = cli(['--dir', dir, 'export']);
    expect(r.code).toBe(0);
    const got = r.stdout.split('\n').slice(0, -1);
    expect(got).toEqual(want);
    expect([...got].sort()).toEqual([...want].sort());
    expect(r.stderr).toMatch(/exported 57,554 events/);
  });

  it('--sort time gives log order; --since/--until and --stream filter; --json is one array', () => {
    const dir = mirrored();
    const lines = cli(['--dir', dir, 'export', '--sort', 'time']).stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l));
    for (let i = 1; i < lines.length; i++) expect(lines[i].ts_epoch >= lines[i - 1].ts_epoch).toBe(true);
    const since = 1770800000;
    const some = cli(['--dir', dir, 'export', '--since', String(since), '--until', '2026-02-13T00:00:00Z']).stdout.split('\n').slice(0, -1);
    expect(some.length).toBeGreaterThan(0);
    for (const l of some) expect(JSON.parse(l).ts_epoch).toBeGreaterThanOrEqual(since);
    expect(cli(['--dir', dir, 'export', '--stream', 'nope']).stdout).toBe('');
    const arr = cli(['--dir', dir, 'export', '--json', '--since', String(since)]).json;
    expect(arr).toHaveLength(cli(['--dir', dir, 'export', '--since', String(since)]).stdout.split('\n').length - 1);
  });
});

describe('rebuild, migrate, doctor', () => {
  it('rebuild while a tail and a reader run: neither fails, and verify passes afterwards', async () => {
    const dir = mirrored();
    const tail = spawn(process.execPath, [CLI, '--dir', dir, 'tail', '--poll-interval', '100'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let tailErr = '';
    tail.stderr.on('data', (d) => (tailErr += d));
    await sleep(500);
    let reads = 0;
    let readError: unknown;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        try {
          const r = createReader({ dir, source: 'sqlite' });
          expect(r.activity({ limit: 5 }).total).toBeGreaterThan(50_000);
          r.doraGrades({ now: 1770854400 });
          r.close();
          reads++;
        } catch (err) {
          readError = err;
        }
        await sleep(10);
      }
    })();
    const appender = (async () => {
      for (let i = 0; i < 50 && !stop; i++) {
        appendFileSync(join(dir, 'events.jsonl'), `{"type":"during.rebuild","i":${i}}\n`);
        await sleep(20);
      }
    })();
    const rebuild = await new Promise<{ code: number; err: string }>((res) => {
      const p = spawn(process.execPath, [CLI, '--dir', dir, 'rebuild'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => res({ code: code ?? -1, err }));
    });
    await appender;
    stop = true;
    await reader;
    expect(rebuild.code, rebuild.err).toBe(0);
    expect(readError).toBeUndefined();
    expect(reads).toBeGreaterThan(0);
    await sleep(400); // the tailer picks up the last appends
    tail.kill('SIGTERM');
    expect(await new Promise((r) => tail.on('exit', r))).toBe(0);
    expect(tailErr).not.toMatch(/Error|error/);
    const v = cli(['--dir', dir, 'verify', '--json']);
    expect(v.json.problems).toEqual([]);
    expect(v.json.events).toBe(57_554 + 50);
  });

  it('rebuild asks for --yes before dropping rows of deleted files', () => {
    const dir = mirrored();
    rmSync(join(dir, 'events.jsonl.1'));
    cli(['--dir', dir, 'import']);
    const r = cli(['--dir', dir, 'rebuild']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds 29471 rows from files that were deleted.*jsonl-mirror export > history\.ndjson.*rebuild --yes/);
    const y = cli(['--dir', dir, 'rebuild', '--yes', '--json']);
    expect(y.code).toBe(0);
    expect(y.json).toMatchObject({ rows: 28_083, droppedHistoryRows: 29_471 });
  });

  it('migrate prints the versions; doctor passes on a healthy mirror and names the fix when it lags', () => {
    const dir = mirrored();
    expect(cli(['--dir', dir, 'migrate', '--json']).json).toMatchObject({ version: LATEST_VERSION(), applied: [] });
    const fresh = tmp();
    expect(cli(['--dir', fresh, 'migrate', '--json']).json.error.code).toBe('DB_MISSING'); // migrate never creates a mirror
    const old = join(fresh, 'mirror.db');
    const d0 = new Database(old);
    d0.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)');
    d0.prepare("INSERT INTO schema_migrations VALUES (1, '001_init.sql', ?, '2020-01-01T00:00:00.000Z')").run(
      createHash('sha256').update(readFileSync(join(import.meta.dirname, '../sql/001_init.sql'), 'utf8')).digest('hex'));
    d0.exec(readFileSync(join(import.meta.dirname, '../sql/001_init.sql'), 'utf8'));
    d0.close();
    expect(cli(['--dir', fresh, 'migrate', '--json']).json).toMatchObject({ version: LATEST_VERSION(), applied: migrations().map((m) => m.name).filter((n) => n !== '001_init.sql') });
    expect(cli(['--dir', dir, 'doctor']).code).toBe(0);
    appendFileSync(join(dir, 'events.jsonl'), '{"type":"late"}\n');
    const d = cli(['--dir', dir, 'doctor', '--json']);
    expect(d.code).toBe(1);
    expect(d.json.checks.find((c: { name: string }) => c.name === 'lag')).toMatchObject({ ok: false, fix: 'jsonl-mirror import (or run jsonl-mirror tail)' });
  });
});

describe('a corrupt mirror heals: moved aside when provably ours, reads use the files, rebuild restores it', () => {
  // Truncation keeps the header with our application_id; random bytes leave nothing that proves whose file it is.
  const breakers: [string, (db: string) => void, boolean][] = [
    ['truncated to half its size', (db) => truncateSync(db, Math.floor(statSync(db).size / 2)), true],
    ['overwritten with random bytes', (db) => writeFileSync(db, Buffer.from(Array.from({ length: statSync(db).size }, (_, i) => (i * 7919 + 13) % 251))), false],
  ];
  for (const [what, breakIt, ours] of breakers) {
    it(`a DB ${what}`, () => {
      const dir = mirrored();
      const db = join(dir, 'mirror.db');
      cli(['--dir', dir, 'query', 'PRAGMA wal_checkpoint']); // settle the WAL so the main file is the whole mirror
      rmSync(`${db}-wal`, { force: true });
      rmSync(`${db}-shm`, { force: true });
      breakIt(db);
      const commands = [['status'], ['verify'], ['query', 'SELECT COUNT(*) FROM events'], ['export'], ['doctor'], ['metrics', 'dora'], ['import']];
      for (const args of commands) {
        const r = cli(['--dir', dir, ...args]);
        expect([0, 1], `${args[0]}: ${r.stderr}`).toContain(r.code); // a clear failure or a fallback, never a crash
        if (r.code === 1) expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
        expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      }
      const aside = readdirSync(dir).filter((f) => /^mirror\.db\.corrupt-[^-]+.*\d$/.test(f) || /^mirror\.db\.corrupt-.*Z$/.test(f));
      if (ours) expect(aside.length).toBeGreaterThanOrEqual(1);
      else {
        expect(aside).toEqual([]); // not provably ours: left where it is, for the user to move
        expect(cli(['--dir', dir, 'rebuild']).stderr).toMatch(/left untouched; move it away yourself/);
        rmSync(db);
      }
      const rb = cli(['--dir', dir, 'rebuild', '--json']);
      expect(rb.code, rb.stderr).toBe(0);
      const v = cli(['--dir', dir, 'verify', '--json']);
      expect(v.code).toBe(0);
      expect(v.json.events).toBe(57_554);
    });
  }
});
