import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { createReader, type Reader } from '../src/api/reader.js';
import { importAll } from '../src/import/import.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import { createTailer } from '../src/tailer/tailer.js';
import { cli, cliAsync, tmp, withSql } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every row the mirror holds, independent of row ids. */
function digest(dbPath: string): { events: number; hash: string } {
  const h = createHash('sha1');
  let events = 0;
  withSql(dbPath, (db) => {
    const rows = db
      .prepare('SELECT s.path, e."offset", e.line, e.ts_epoch, e.type FROM events e JOIN sources s ON s.id = e.source_id ORDER BY s.path, e."offset"')
      .raw()
      .iterate() as IterableIterator<unknown[]>;
    for (const r of rows) {
      h.update(`${r.join('\u0001')}\n`);
      events++;
    }
  });
  return { events, hash: h.digest('hex') };
}

/** The mirror's indexes as SQLite stores their definitions. */
function indexes(dbPath: string): Record<string, string> {
  const rows = withSql(dbPath, (db) => db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all()) as {
    name: string;
    sql: string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
}

function pending(dbPath: string): boolean {
  const store = openStore(dbPath, { readonly: true });
  try {
    return store.indexesPending();
  } finally {
    store.close();
  }
}

/**
 * Helpers whose SQL names an index (type/time, issue) or walks the log order,
 * all at a fixed `now`; the activity cursor is each backend's own encoding.
 */
function answers(r: Reader, now: number, issue: number): unknown[] {
  const { nextCursor: _cursor, ...activity } = r.activity({ now, type: 'pipeline', limit: 20, offset: 10 });
  return [
    r.doraGrades({ now, period: 30 }),
    r.costBreakdown({ now, period: 30 }),
    r.stagePerformance({ now, period: 30 }),
    r.failureHeatmap({ now }),
    activity,
    r.issueEvents({ issue, now }),
  ];
}

describe('bulk import (deferred secondary indexes)', () => {
  // Two imports of 200k lines, two readers without indexes and a verify: 32 s on an idle slow host, past 120 s under load.
  it('an import killed while its indexes are dropped: reads fall back or answer the same, and the next import resumes exactly and builds them', { timeout: 300_000 }, async () => {
    const dir = tmp();
    generateLog({ dir, lines: 200_000, linesPerFile: 80_000, seed: 11 });
    const cleanDb = join(tmp(), 'clean.db');
    expect(cli(['--dir', dir, '--db', cleanDb, 'import', '--no-progress']).code).toBe(0);
    const clean = digest(cleanDb);
    expect(pending(cleanDb)).toBe(false);

    const db = join(dir, 'mirror.db');
    const child = cliAsync(['--dir', dir, '--db', db, 'import', '--no-progress']);
    const exited = new Promise((res) => child.on('exit', res));
    // Kill it once some rows are in and the flag is set: a load in progress, indexes dropped.
    for (let i = 0; i < 500; i++) {
      await sleep(10);
      try {
        const store = openStore(db, { readonly: true });
        const loading = store.indexesPending() && store.countEvents() > 1000;
        store.close();
        if (loading) break;
      } catch {
        // not created yet
      }
    }
    child.kill('SIGKILL');
    await exited;
    expect(pending(db)).toBe(true);
    expect(indexes(db).event_rows_log_order).toBeUndefined();
    const partial = digest(db).events;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(clean.events);

    const status = cli(['--dir', dir, '--db', db, 'status', '--json']);
    expect(status.json.indexesPending).toBe(true);
    expect(cli(['--dir', dir, '--db', db, 'status']).stdout).toContain('indexes pending');
    const doc = cli(['--dir', dir, '--db', db, 'doctor', '--json']);
    expect(doc.json.checks.find((c: { name: string }) => c.name === 'indexes')).toMatchObject({ ok: false, fix: 'jsonl-mirror import' });

    const { now, issue } = withSql(cleanDb, (d) => d.prepare('SELECT MAX(ts_epoch) AS now, MAX(issue) AS issue FROM events').get()) as { now: number; issue: number };
    const scan = createReader({ dir, source: 'scan' });
    const expected = answers(scan, now, issue);
    scan.close();
    expect((expected[4] as { events: unknown[] }).events.length).toBe(20);
    expect((expected[5] as { events: unknown[] }).events.length).toBeGreaterThan(0);

    const auto = createReader({ dir, db, source: 'auto' });
    expect(answers(auto, now, issue)).toEqual(expected);
    expect(auto.fallbackReason).toMatch(/indexes are pending/);
    auto.close();
    // The auto reader's catch-up mirrored the rest of the lines, still without the indexes.
    expect(pending(db)).toBe(true);

    const sqlite = createReader({ dir, db, source: 'sqlite' });
    expect(answers(sqlite, now, issue)).toEqual(expected);
    expect(sqlite.backend).toBe('sqlite');
    expect(sqlite.fallbackReason).toBeNull();
    sqlite.close();

    const finish = cli(['--dir', dir, '--db', db, 'import', '--json']);
    expect(finish.code, finish.stderr).toBe(0);
    expect(pending(db)).toBe(false);
    expect(indexes(db)).toEqual(indexes(cleanDb));
    expect(digest(db)).toEqual(clean);
    const store = openStore(db, { readonly: true });
    expect(verifyMirror(store, dir).ok).toBe(true);
    store.close();
    const after = createReader({ dir, db, source: 'auto' });
    expect(answers(after, now, issue)).toEqual(expected);
    expect(after.fallbackReason).toBeNull();
    after.close();
  });

  it('a forced bulk load gives the rows and the index definitions of a row-by-row import', () => {
    const dir = tmp();
    generateLog({ dir, lines: 20_000, linesPerFile: 7_000, seed: 5 });
    const rowByRow = join(tmp(), 'row.db');
    const bulk = join(tmp(), 'bulk.db');
    for (const [path, flag] of [[rowByRow, false], [bulk, true]] as const) {
      const store = openStore(path);
      importAll(store, dir, { bulk: flag });
      store.close();
    }
    expect(digest(bulk)).toEqual(digest(rowByRow));
    expect(indexes(bulk)).toEqual(indexes(rowByRow));
    expect(Object.keys(indexes(bulk))).toEqual(expect.arrayContaining(['lines_identity', 'event_rows_issue', 'event_rows_log_order']));
    expect(pending(bulk)).toBe(false);
  });

  it('a small import into a mirror that is not far behind keeps its indexes', () => {
    const dir = tmp();
    generateLog({ dir, lines: 2_000, seed: 5 });
    const db = join(dir, 'mirror.db');
    const store = openStore(db);
    let sawPending = false;
    importAll(store, dir, { onStart: () => (sawPending = store.indexesPending()) });
    expect(sawPending).toBe(false);
    expect(indexes(db).event_rows_log_order).toBeDefined();
    store.close();
  });

  it('the tailer builds indexes an interrupted bulk load left pending, before it follows the files', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 5_000, seed: 9 });
    const db = join(dir, 'mirror.db');
    const store = openStore(db);
    store.enterBulkLoad();
    importAll(store, dir, { bulk: false });
    store.leaveBulkLoad();
    store.close();
    expect(pending(db)).toBe(true);
    expect(indexes(db).event_rows_log_order).toBeUndefined();
    const t = createTailer({ dir, onError: () => {} });
    await t.start();
    await t.idle();
    await t.stop();
    expect(pending(db)).toBe(false);
    expect(indexes(db).event_rows_log_order).toBeDefined();
  });

  it('a load cut short by an OS crash (damaged, indexes pending) is checked, moved aside and rebuilt, never built on', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 20_000, seed: 3 });
    const damaged = () => {
      const db = join(dir, 'mirror.db');
      rmSync(db, { force: true });
      const store = openStore(db);
      store.enterBulkLoad();
      importAll(store, dir, { bulk: false });
      store.leaveBulkLoad();
      store.close();
      // What a power loss under synchronous = OFF can leave: pages of the table never written whole.
      const size = statSync(db).size;
      const fd = openSync(db, 'r+');
      writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, size - 3 * 8192);
      closeSync(fd);
      return db;
    };
    const clean = join(tmp(), 'clean.db');
    expect(cli(['--dir', dir, '--db', clean, 'import']).code).toBe(0);

    let db = damaged();
    const imp = cli(['--dir', dir, 'import', '--json']);
    expect(imp.code).toBe(1);
    expect(imp.json.error.code).toBe('DB_CORRUPT');
    expect(imp.json.error.message).toMatch(/moved it aside to /);
    expect(imp.json.error.message).toMatch(/failed its check after an interrupted bulk import/);
    expect(existsSync(db)).toBe(false);
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(digest(db)).toEqual(digest(clean));
    expect(pending(db)).toBe(false);

    db = damaged();
    const problems: string[] = [];
    const t = createTailer({ dir, onError: (e) => problems.push((e as Error).message) });
    await t.start();
    await t.idle();
    await t.stop();
    expect(problems.join('\n')).toMatch(/moved it aside/);
    expect(digest(db)).toEqual(digest(clean));
    expect(pending(db)).toBe(false);
  });
});
