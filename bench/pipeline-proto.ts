import Database from 'better-sqlite3';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { normalize } from '../src/ingest/normalize.js';
import { openStore } from '../src/store/open.js';
import { streamPaths } from './baselines.js';
import { learnTokens, tokenCodec } from './line-tokens.js';

/**
 * Issue #15 prototype: the end-to-end import (read + parse + insert) with the
 * parse either in the inserting thread or in a worker thread that runs one
 * batch ahead (at most 3 batches in flight, so memory stays bounded), into
 * today's schema with the secondary indexes deferred and synchronous=OFF.
 *
 *   [ROWS_PER_INSERT=25] node dist/bench/pipeline-proto.js LOGDIR [inline|worker] [today|compact|compact-tokens|clustered]
 */
type Batch = { k: number; rows: unknown[][] };
const BATCH = 20_000;

/** With `tokens`, each line is token-coded where it is parsed (in the worker, when there is one). */
function* parseBatches(paths: string[], tokens: boolean): Generator<Batch> {
  let encode: ((s: string) => string) | undefined;
  for (let k = 0; k < paths.length; k++) {
    const text = readFileSync(paths[k]!, 'utf8');
    let rows: unknown[][] = [];
    let offset = 0;
    let s = 0;
    for (let i = text.indexOf('\n'); i !== -1; s = i + 1, i = text.indexOf('\n', s)) {
      const line = text.slice(s, i);
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const e = normalize(v);
          rows.push([offset, e.type, e.ts_epoch, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens, e.output_tokens, line]);
        }
      } catch {
        // a reject in the product
      }
      offset += Buffer.byteLength(line) + 1;
      if (rows.length >= BATCH) {
        if (tokens) {
          encode ??= tokenCodec(learnTokens(rows.map((r) => r[11] as string))).encode;
          for (const r of rows) r[11] = encode(r[11] as string);
        }
        yield { k, rows };
        rows = [];
      }
    }
    if (rows.length) {
      if (tokens) {
        encode ??= tokenCodec(learnTokens(rows.map((r) => r[11] as string))).encode;
        for (const r of rows) r[11] = encode(r[11] as string);
      }
      yield { k, rows };
    }
  }
}

if (!isMainThread) {
  const { paths, inflight, tokens } = workerData as { paths: string[]; inflight: SharedArrayBuffer; tokens: boolean };
  const n = new Int32Array(inflight);
  for (const b of parseBatches(paths, tokens)) {
    while (Atomics.load(n, 0) >= 3) Atomics.wait(n, 0, Atomics.load(n, 0), 50);
    Atomics.add(n, 0, 1);
    parentPort!.postMessage(b);
  }
  parentPort!.postMessage(null);
} else {
  const [dir, mode = 'worker', schemaArg = 'today'] = process.argv.slice(2);
  // compact-tokens: the compact schema with token-coded lines.
  const tokens = schemaArg.endsWith('-tokens');
  const schema = schemaArg.replace(/-tokens$/, '');
  const paths = streamPaths(dir!);
  const bytes = paths.reduce((a, p) => a + statSync(p).size, 0);
  const dbPath = '/tmp/pipeline-proto.db';
  for (const x of ['', '-wal', '-shm']) rmSync(dbPath + x, { force: true });
  openStore(dbPath).close();
  const db = new Database(dbPath);
  const s = { close: () => db.close() };
  db.pragma('synchronous = OFF');
  const t0 = performance.now();
  let insert: (b: Batch) => void;
  let finish: () => void;
  if (schema === 'today') {
    const defs = ['events_type_time', 'events_log_order', 'events_issue'].map((name) => {
      const sql = (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql;
      db.exec(`DROP INDEX ${name}`);
      return sql;
    });
    const src = db.prepare(`INSERT OR IGNORE INTO sources (id, stream, path, dev, ino, rank, head_len, head_hash, first_seen, updated_at)
      VALUES (?, 'events', ?, 0, ?, ?, 0, '', '', '')`);
    const ins = db.prepare(`INSERT OR IGNORE INTO events (source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd,
      model, input_tokens, output_tokens, line) VALUES (?, ?, 'events', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    insert = db.transaction((b: Batch) => {
      src.run(b.k + 1, `f${b.k}`, b.k, b.k + 1);
      for (const r of b.rows) ins.run(b.k + 1, r[0], b.k + 1, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
    });
    finish = () => defs.forEach((sql) => db.exec(sql));
  } else if (schema === 'clustered') {
    // One table: the rows clustered by (stream, type, ts) with their line; (stream, type, ts, rank, id) is the identity too, since the
    // same bytes at the same place always give the same type and ts.
    db.exec(`CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
      CREATE TABLE cevents (stream_id INTEGER NOT NULL, type_id INTEGER NOT NULL, ts_epoch NUMERIC NOT NULL, rank REAL NOT NULL, id INTEGER NOT NULL,
        issue NUMERIC, stage TEXT, result TEXT, duration_s NUMERIC, cost_usd NUMERIC, model TEXT, input_tokens NUMERIC, output_tokens NUMERIC, line TEXT NOT NULL,
        PRIMARY KEY (stream_id, type_id, ts_epoch, rank, id)) WITHOUT ROWID;`);
    // Lines by (source, offset) for held-line checks, verify and file-order export; kept during the load (it grows in id order).
    if (process.env.ID_INDEX) db.exec('CREATE INDEX cevents_id ON cevents(id)');
    const codes = new Map<string, number>();
    const addName = db.prepare('INSERT INTO names (name) VALUES (?)');
    const code = (n: string) => codes.get(n) ?? (codes.set(n, Number(addName.run(n).lastInsertRowid)), codes.get(n)!);
    const per = Number(process.env.ROWS_PER_INSERT ?? 1);
    const values = Array.from({ length: per }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    const insMany = db.prepare(`INSERT OR IGNORE INTO cevents VALUES ${values}`);
    const insOne = db.prepare('INSERT OR IGNORE INTO cevents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert = db.transaction((b: Batch) => {
      const stream = code('events');
      const args: unknown[] = [];
      let i = 0;
      for (const r of b.rows) {
        const id = (b.k + 1) * 2 ** 40 + (r[0] as number);
        const row = [stream, code((r[1] as string | null) ?? ''), r[2], b.k + 1, id, r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]];
        if (per === 1) insOne.run(row);
        else {
          args.push(...row);
          if (++i === per) {
            insMany.run(args);
            args.length = 0;
            i = 0;
          }
        }
      }
      for (let j = 0; j < args.length; j += 14) insOne.run(args.slice(j, j + 14));
    });
    finish = () => {
      db.exec('CREATE INDEX cevents_log_order ON cevents(stream_id, ts_epoch, rank)');
      db.exec('CREATE INDEX cevents_issue ON cevents(stream_id, issue, ts_epoch, rank) WHERE issue != 0');
    };
  } else {
    db.exec(`CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
      CREATE TABLE lines (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
      CREATE TABLE cevents (stream_id INTEGER NOT NULL, type_id INTEGER NOT NULL, ts_epoch NUMERIC NOT NULL, rank REAL NOT NULL, id INTEGER NOT NULL,
        issue NUMERIC, stage TEXT, result TEXT, duration_s NUMERIC, cost_usd NUMERIC, model TEXT, input_tokens NUMERIC, output_tokens NUMERIC,
        PRIMARY KEY (stream_id, type_id, ts_epoch, rank, id)) WITHOUT ROWID;`);
    const codes = new Map<string, number>();
    const addName = db.prepare('INSERT INTO names (name) VALUES (?)');
    const code = (n: string) => codes.get(n) ?? (codes.set(n, Number(addName.run(n).lastInsertRowid)), codes.get(n)!);
    const per = Number(process.env.ROWS_PER_INSERT ?? 1);
    const many = (cols: number) => Array.from({ length: per }, () => `(${Array.from({ length: cols }, () => '?').join(', ')})`).join(', ');
    const insLine = db.prepare('INSERT OR IGNORE INTO lines (id, line) VALUES (?, ?)');
    const ins = db.prepare(`INSERT INTO cevents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    // Multi-row: a fresh bulk load has no duplicates to skip, so both tables take the rows as they come.
    const insLines = db.prepare(`INSERT INTO lines (id, line) VALUES ${many(2)}`);
    const insMany = db.prepare(`INSERT INTO cevents VALUES ${many(13)}`);
    insert = db.transaction((b: Batch) => {
      const stream = code('events');
      if (per === 1) {
        for (const r of b.rows) {
          const id = (b.k + 1) * 2 ** 40 + (r[0] as number);
          if (insLine.run(id, r[11]).changes === 1) {
            ins.run(stream, code((r[1] as string | null) ?? ''), r[2], b.k + 1, id, r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]);
          }
        }
        return;
      }
      for (let i = 0; i < b.rows.length; i += per) {
        const chunk = b.rows.slice(i, i + per);
        const la: unknown[] = [];
        const ea: unknown[] = [];
        for (const r of chunk) {
          const id = (b.k + 1) * 2 ** 40 + (r[0] as number);
          la.push(id, r[11]);
          ea.push(stream, code((r[1] as string | null) ?? ''), r[2], b.k + 1, id, r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]);
        }
        if (chunk.length === per) {
          insLines.run(la);
          insMany.run(ea);
        } else {
          for (let j = 0; j < chunk.length; j++) {
            insLine.run(la.slice(j * 2, j * 2 + 2));
            ins.run(ea.slice(j * 13, j * 13 + 13));
          }
        }
      }
    });
    finish = () => {
      db.exec('CREATE INDEX cevents_log_order ON cevents(stream_id, ts_epoch, rank)');
      db.exec('CREATE INDEX cevents_issue ON cevents(stream_id, issue, ts_epoch, rank) WHERE issue != 0');
    };
  }
  let rows = 0;
  const done = () => {
    const tIdx = performance.now();
    finish();
    const ms = performance.now() - t0;
    // Size after the WAL is folded in (not timed).
    db.pragma('wal_checkpoint(TRUNCATE)');
    const mb = statSync(dbPath).size + statSync(`${dbPath}-wal`, { throwIfNoEntry: false })?.size! || 0;
    process.stdout.write(`${JSON.stringify({ dir, mode, schema: schemaArg, idIndex: Boolean(process.env.ID_INDEX), rowsPerInsert: Number(process.env.ROWS_PER_INSERT ?? 1), rows, sizeRatio: +(mb / bytes).toFixed(2), rowsPerS: Math.round(rows / (ms / 1000)), mbPerS: +(bytes / 1e6 / (ms / 1000)).toFixed(1),
      indexMs: Math.round(performance.now() - tIdx), maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
    s.close();
    for (const x of ['', '-wal', '-shm']) rmSync(dbPath + x, { force: true });
  };
  if (mode === 'inline') {
    for (const b of parseBatches(paths, tokens)) {
      insert(b);
      rows += b.rows.length;
    }
    done();
  } else {
    const inflight = new SharedArrayBuffer(4);
    const n = new Int32Array(inflight);
    const w = new Worker(new URL(import.meta.url), { workerData: { paths, inflight, tokens } });
    w.on('message', (b: Batch | null) => {
      if (b === null) {
        done();
        void w.terminate();
        return;
      }
      insert(b);
      rows += b.rows.length;
      Atomics.sub(n, 0, 1);
      Atomics.notify(n, 0);
    });
  }
}
