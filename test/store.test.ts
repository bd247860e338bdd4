import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isMirrorError } from '../src/errors.js';
import { LATEST_VERSION, migrations } from '../src/store/migrations.js';
import { hasSecondStatement } from '../src/store/driver-bun.js';
import { openStore } from '../src/store/open.js';
import { importAll } from '../src/import/import.js';
import { verifyMirror } from '../src/ops/verify.js';
import { mirrorAtSchema4, tmp, withSql } from './helpers.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMirrorError(err) ? err.code : `untyped: ${(err as Error).message}`;
  }
  return undefined;
}

describe('store', () => {
  it('opens with WAL, synchronous=NORMAL and a busy timeout, and records migrations with checksums', () => {
    const path = join(tmp(), 'm.db');
    const store = openStore(path, { busyTimeoutMs: 1234 });
    expect(withSql(path, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
    // synchronous and busy_timeout are settings of a connection, not of the file: only the store's own (private)
    // connection shows them, and the store has no method that reports them.
    const own = (store as unknown as { db: { pragmaValue(setting: string): unknown } }).db;
    expect(own.pragmaValue('synchronous')).toBe(1);
    expect(own.pragmaValue('busy_timeout')).toBe(1234);
    const rows = store.migrationsApplied();
    expect(rows.map((r) => r.version)).toEqual(migrations().map((m) => m.version));
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    store.close();
    const again = openStore(path);
    expect(again.schemaVersion).toBe(LATEST_VERSION());
    again.close();
  });

  it('migrates an older mirror: 002 adds stage_totals, 006 turns it into day_totals counted from the rows', () => {
    const dir = tmp();
    const path = join(dir, 'm.db');
    writeFileSync(join(dir, 'events.jsonl'), [
      '{"type":"stage.completed","stage":"build","duration_s":10,"ts_epoch":1}',
      '{"type":"stage.completed","stage":"build","duration_s":"5","ts_epoch":2}',
      '{"type":"stage.completed","stage":"test","ts_epoch":3}',
      '{"type":"stage.completed","ts_epoch":4}',
    ].join('\n') + '\n');
    const s1 = openStore(join(dir, 'now.db'));
    importAll(s1, dir);
    s1.close();
    // Make it a version-1 mirror, as an older jsonl-mirror left it.
    mirrorAtSchema4(join(dir, 'now.db'), path);
    withSql(path, (db) => db.exec(`DROP TABLE stage_totals; DROP INDEX events_issue; DELETE FROM schema_migrations WHERE version >= 2;
      ALTER TABLE sources DROP COLUMN held_at; ALTER TABLE sources DROP COLUMN held_len; ALTER TABLE sources DROP COLUMN mtime_ms;
      ALTER TABLE sources DROP COLUMN tail_len; ALTER TABLE rejects DROP COLUMN hash;`));
    const s2 = openStore(path);
    expect(s2.schemaVersion).toBe(LATEST_VERSION());
    expect(withSql(path, (db) => db.prepare('SELECT day, nulls, stage, n, duration_sum FROM day_totals ORDER BY nulls, stage').all())).toEqual([
      { day: 0, nulls: 2, stage: 'build', n: 2, duration_sum: 15 },
      { day: 0, nulls: 2, stage: 'test', n: 1, duration_sum: 0 },
      { day: 0, nulls: 3, stage: '', n: 1, duration_sum: 0 },
    ]);
    expect(withSql(path, (db) => db.prepare("SELECT name FROM sqlite_master WHERE name = 'stage_totals'").all())).toEqual([]);
    expect(verifyMirror(s2, dir).ok).toBe(true);
    withSql(path, (db) => db.exec("UPDATE day_totals SET n = 7 WHERE stage = 'test'"));
    expect(verifyMirror(s2, dir).problems).toEqual([expect.objectContaining({ path: 'day_totals', problem: 'changed' })]);
    s2.close();
  });

  it('refuses a database from a newer schema', () => {
    const path = join(tmp(), 'm.db');
    openStore(path).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x', 'now')").run();
    db.close();
    expect(codeOf(() => openStore(path))).toBe('DB_NEWER_SCHEMA');
    expect(codeOf(() => openStore(path, { readonly: true }))).toBe('DB_NEWER_SCHEMA');
  });

  it('refuses a database whose recorded migration differs', () => {
    const path = join(tmp(), 'm.db');
    openStore(path).close();
    const db = new Database(path);
    db.prepare("UPDATE schema_migrations SET checksum = 'changed' WHERE version = 1").run();
    db.close();
    expect(codeOf(() => openStore(path))).toBe('DB_MIGRATION_CHANGED');
  });

  it('types the errors a user can cause', () => {
    const dir = tmp();
    expect(codeOf(() => openStore(join(dir, 'missing/m.db')))).toBe('DB_DIR_MISSING');
    writeFileSync(join(dir, 'garbage.db'), 'this is not sqlite, just text '.repeat(200));
    expect(codeOf(() => openStore(join(dir, 'garbage.db')))).toBe('DB_NOT_A_DATABASE');
    expect(codeOf(() => openStore(join(dir, 'absent.db'), { readonly: true }))).toBe('DB_MISSING');
  });

  it('two processes migrating a fresh database at once both succeed', async () => {
    const path = join(tmp(), 'm.db');
    const script = `import('${join(import.meta.dirname, '../dist/src/store/open.js')}').then(m => { m.openStore(process.argv[1]).close(); })`;
    const run = () => new Promise<number>((res) => spawn(process.execPath, ['-e', script, path]).on('exit', (c) => res(c ?? -1)));
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    const store = openStore(path);
    expect(withSql(path, (db) => db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get())).toEqual({ n: migrations().length });
    store.close();
  });

  it('a write while another connection holds the write lock fails as DB_LOCKED after the busy timeout', () => {
    const path = join(tmp(), 'm.db');
    openStore(path).close();
    withSql(path, (holder) => {
      holder.prepare('BEGIN IMMEDIATE').run();
      const other = openStore(path, { busyTimeoutMs: 50 });
      let code: string | undefined;
      try {
        other.transaction(() => {})(); // BEGIN IMMEDIATE: takes the write lock
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).toBe('SQLITE_BUSY');
      holder.prepare('COMMIT').run();
      other.close();
    });
  });
});

describe('the bun:sqlite driver refuses a second statement, as better-sqlite3 does', () => {
  it('finds a statement after the first, skipping strings, quoted names and comments', () => {
    for (const sql of ['SELECT 1', 'SELECT 1;', 'SELECT 1 ;  -- done', "SELECT ';' AS x", 'SELECT "a;b" FROM t', 'SELECT [x;y], `p;q`', 'SELECT 1 /* ; */', 'SELECT 1; /* c */ ;\n']) {
      expect(hasSecondStatement(sql), sql).toBe(false);
    }
    for (const sql of ['SELECT 1; SELECT 2', "SELECT ';'; DELETE FROM t", 'SELECT 1 -- x\n; DROP TABLE t', 'SELECT 1;/**/VACUUM', "SELECT 1; 'x'"]) {
      expect(hasSecondStatement(sql), sql).toBe(true);
    }
  });
});


describe('rows read as objects through the better-sqlite3 driver', () => {
  const SQL = "SELECT 1 AS a, 'x' AS b, 3 AS a, NULL AS c, 2.5 AS [odd name] FROM (SELECT 1 UNION ALL SELECT 2)";

  it('are the objects better-sqlite3 makes: a repeated name keeps its first place and takes the later value', () => {
    const dir = tmp();
    const store = openStore(join(dir, 'm.db'));
    const own = new Database(':memory:');
    try {
      const expected = own.prepare(SQL).all();
      const q = store.readQuery(SQL, []);
      const rows = [...q.rows];
      expect(rows).toEqual(expected);
      expect(rows.map((r) => Object.keys(r))).toEqual(expected.map((r) => Object.keys(r as object)));
      expect(q.columns).toEqual(['a', 'b', 'a', 'c', 'odd name']);
    } finally {
      own.close();
      store.close();
    }
  });

  it('keep a column named __proto__ as an own property and leave the prototype alone', () => {
    const dir = tmp();
    const store = openStore(join(dir, 'm.db'));
    try {
      const [row] = [...store.readQuery("SELECT 'p' AS __proto__, 1 AS n", []).rows];
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
      expect(Object.keys(row!)).toEqual(['__proto__', 'n']);
      expect(JSON.stringify(row)).toBe('{"__proto__":"p","n":1}');
    } finally {
      store.close();
    }
  });
});
