import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, expect } from 'vitest';
import { encodeLine } from '../src/model/line-tokens.js';
import { migrations } from '../src/store/migrations.js';

export const ROOT = resolve(import.meta.dirname, '..');
/** The CLI's ES module entry: what Bun runs, and what dist/cli.cjs bundles. */
export const CLI = join(ROOT, 'dist/src/cli/main.js');
/** What a user runs: the bundled CLI through the code cache (bin/jsonl-mirror). */
export const BIN = join(ROOT, 'bin/jsonl-mirror');
export const FIXTURES = join(ROOT, 'fixtures');

const made: string[] = [];
afterEach(() => {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
});

/**
 * fn with the test's own connection to the mirror at `path`, for test-only SQL
 * the store has no method for (reading raw columns, planting a bad row, holding
 * the write lock as another process would); closed when fn returns or, for an
 * async fn, settles. A mirror file is in WAL mode, so this connection is too;
 * it never switches the mode itself (that would write to a file another process
 * may be creating, and hide a store that failed to). It sees only committed
 * rows, and a write waits for the store's open write transaction (busy timeout).
 */
export function withSql<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { fileMustExist: true });
  let result: T;
  try {
    result = fn(db);
  } catch (err) {
    db.close();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => db.close()) as T;
  db.close();
  return result;
}

/**
 * The mirror at `from` as an older jsonl-mirror (schema 4, before sql/005)
 * kept it, written to `to`: schema 1-4 as shipped, the same sources,
 * rejects, meta, stage totals (as 002 kept them) and legacy entries, and one `events` row per
 * event with the same id and the original line. Opening it migrates it.
 */
export function mirrorAtSchema4(from: string, to: string): void {
  const db = new Database(to);
  try {
    db.pragma('application_id = 0x4a4d4952');
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of migrations().filter((m) => m.version <= 4)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(m.version, m.name, m.checksum, '2026-01-01T00:00:00Z');
    }
    db.prepare('ATTACH DATABASE ? AS cur').run(from);
    db.exec(`DELETE FROM stage_totals;
      INSERT INTO sources SELECT * FROM cur.sources; INSERT INTO rejects SELECT * FROM cur.rejects; INSERT INTO meta SELECT * FROM cur.meta;
      INSERT INTO stage_totals SELECT stream, stage, COUNT(*), TOTAL(duration_s) FROM cur.events
        WHERE type = 'stage.completed' AND stage IS NOT NULL GROUP BY stream, stage;
      INSERT INTO events (id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd, model,
        input_tokens, output_tokens, line) SELECT id, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s,
        cost_usd, model, input_tokens, output_tokens, line FROM cur.events;
      INSERT INTO legacy_entries SELECT * FROM cur.legacy_entries;`);
  } finally {
    db.close();
  }
}

/**
 * Damages a mirror the way a bug or a hand edit would, below the store: a
 * row for `line` at (source, offset), written into sql/005's tables
 * directly (the line token-coded, names by code).
 */
export function insertRawEvent(db: Database.Database, r: { sourceId: number; offset: number; stream: string; rank: number; type: string; ts_epoch: number; line: string }): void {
  const code = (table: 'streams' | 'types', name: string): number => {
    db.prepare(`INSERT OR IGNORE INTO ${table} (name) VALUES (?)`).run(name);
    return (db.prepare(`SELECT id FROM ${table} WHERE name = ?`).get(name) as { id: number }).id;
  };
  const type = code('types', r.type);
  const id = db.prepare('INSERT INTO lines (source_id, "offset", type_id, ts_epoch, line) VALUES (?, ?, ?, ?, ?)')
    .run(r.sourceId, r.offset, type, r.ts_epoch, encodeLine(r.line)).lastInsertRowid;
  const stream = code('streams', r.stream);
  db.prepare('INSERT INTO event_rows (stream_id, type_id, ts_epoch, rank, id) VALUES (?, ?, ?, ?, ?)').run(stream, type, r.ts_epoch, r.rank, id);
  // Counted in day_totals as the ingest counts what it inserts: the row is wrong, its rollup is not.
  db.prepare(`INSERT INTO day_totals VALUES (?, ?, ?, 3, '', '', 0, 1, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (stream_id, type_id, day, nulls, stage, model, ok) DO UPDATE SET n = n + 1, dur_min = min(dur_min, 0)`).run(stream, type, Math.floor(r.ts_epoch / 86400));
}

/** A fresh directory removed after the test. */
export function tmp(prefix = 'jm-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

export function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

export function cliAsync(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** fn with a client of the test's own on the PostgreSQL database at `url` (SQL the store has no method for), ended when fn settles. */
export async function withPgClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** sha1 and mtime of every file in a directory, to prove a command left them alone. */
export function snapshot(dir: string, filter: (name: string) => boolean = (n) => n.includes('.jsonl') || n.endsWith('.json')) {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter(filter).sort()) {
    const p = join(dir, name);
    out[name] = `${createHash('sha1').update(readFileSync(p)).digest('hex')}:${statSync(p).mtimeMs}`;
  }
  return out;
}

/** events-a as the rotated file, events-b as the live one, imported. */
export function mirrored(): string {
  const dir = tmp();
  copyFileSync(join(FIXTURES, 'shipwright/events-a.jsonl'), join(dir, 'events.jsonl.1'));
  copyFileSync(join(FIXTURES, 'shipwright/events-b.jsonl'), join(dir, 'events.jsonl'));
  expect(cli(['--dir', dir, 'import']).code).toBe(0);
  return dir;
}
