import { existsSync, rmSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { normalize } from '../src/ingest/normalize.js';
import type { NormalEvent } from '../src/model/event.js';
import { openStore } from '../src/store/open.js';
import Database from 'better-sqlite3';
type Database = InstanceType<typeof Database>;
import { streamPaths } from './baselines.js';
import { learnTokens, tokenCodec } from './line-tokens.js';
import { readFileSync } from 'node:fs';

/**
 * Issue #15 prototypes, outside the product code: the same parsed rows go
 * into today's schema under different load settings (deferred indexes,
 * synchronous, cache, transaction size) and into a compact schema (stream and
 * type as integer codes, rows clustered by (stream, type, ts) WITHOUT ROWID
 * instead of a covering index, lines in their own table whose rowid is the
 * row identity (source << 40 | offset), optionally with the JSON keys that
 * repeat on every line replaced by control bytes that valid JSON never holds).
 * Prints one JSON line per variant: load rows/s, CREATE INDEX times, size
 * ratio, and the latency of the queries behind the heaviest helpers.
 *
 *   node dist/bench/schema-proto.js --log .bench/logs-1000000 --variant today,deferred,compact
 */
const o = new Command('schema-proto')
  .requiredOption('--log <dir>', 'a log directory (bench/run.ts makes .bench/logs-N and .bench/shipwright-N)')
  .option('--variant <list>', 'comma list', 'today,deferred,sync-off,big-cache,tx-200k,compact,compact-tokens,compact-deferred')
  .option('--db <file>', 'scratch database', '/tmp/schema-proto.db')
  .option('--end <epoch>', 'the log\'s last epoch (bench/run.ts END)', Number, 1770768000)
  .parse()
  .opts();

interface Row { offset: number; e: NormalEvent; line: string; }

const paths = streamPaths(o.log);
const logBytes = paths.reduce((a, p) => a + statSync(p).size, 0);

/** Read + split + JSON.parse + normalise, timed apart from the inserts. */
function parseAll(): { rows: Row[][]; ms: number; parseMs: number } {
  const t = performance.now();
  let parseMs = 0;
  const rows: Row[][] = [];
  for (const p of paths) {
    const out: Row[] = [];
    const text = readFileSync(p, 'utf8');
    let s = 0;
    let offset = 0;
    for (let i = text.indexOf('\n'); i !== -1; s = i + 1, i = text.indexOf('\n', s)) {
      const line = text.slice(s, i);
      const t0 = performance.now();
      try {
        const v = JSON.parse(line);
        if (v && typeof v === 'object' && !Array.isArray(v)) out.push({ offset, e: normalize(v), line });
      } catch {
        // a reject in the product
      }
      parseMs += performance.now() - t0;
      offset += Buffer.byteLength(line) + 1;
    }
    rows.push(out);
  }
  return { rows, ms: performance.now() - t, parseMs };
}

const fresh = (p: string) => {
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
};
const sizeOf = (p: string) => statSync(p).size + (existsSync(`${p}-wal`) ? statSync(`${p}-wal`).size : 0);
const time = (fn: () => unknown): number => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
/** Median of 5 after one warm-up call. */
const latency = (fn: () => unknown): number => {
  fn();
  const xs = [0, 1, 2, 3, 4].map(() => time(fn)).sort((a, b) => a - b);
  return xs[2]!;
};

const SECONDARY = ['events_type_time', 'events_log_order', 'events_issue'];

interface Settings { sync?: string; cacheKb?: number; mmap?: number; tempMemory?: boolean; txRows: number; defer: boolean; }

function loadToday(db: Database, data: Row[][], st: Settings): { loadMs: number; indexMs: Record<string, number> } {
  const defs = new Map<string, string>();
  if (st.defer) {
    for (const name of SECONDARY) {
      defs.set(name, (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql);
      db.exec(`DROP INDEX ${name}`);
    }
  }
  const src = db.prepare(`INSERT INTO sources (id, stream, path, dev, ino, rank, head_len, head_hash, first_seen, updated_at)
    VALUES (?, 'events', ?, 0, ?, ?, 0, '', '', '')`);
  const ins = db.prepare(`INSERT INTO events (source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result, duration_s, cost_usd,
    model, input_tokens, output_tokens, line) VALUES (?, ?, 'events', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const batch = db.transaction((id: number, rows: Row[]) => {
    for (const { offset, e, line } of rows) {
      ins.run(id, offset, id, e.type, e.ts_epoch, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens, e.output_tokens, line);
    }
  });
  const loadMs = time(() => {
    data.forEach((rows, k) => {
      src.run(k + 1, `f${k}`, k, k + 1);
      for (let i = 0; i < rows.length; i += st.txRows) batch.immediate(k + 1, rows.slice(i, i + st.txRows));
    });
  });
  const indexMs: Record<string, number> = {};
  for (const [name, sql] of defs) indexMs[name] = time(() => db.exec(sql));
  return { loadMs, indexMs };
}

const COMPACT_SCHEMA = `
CREATE TABLE names (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name));
CREATE TABLE lines (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
CREATE TABLE events (
  stream_id INTEGER NOT NULL, type_id INTEGER NOT NULL, ts_epoch NUMERIC NOT NULL, rank REAL NOT NULL, id INTEGER NOT NULL,
  issue NUMERIC, stage TEXT, result TEXT, duration_s NUMERIC, cost_usd NUMERIC, model TEXT, input_tokens NUMERIC, output_tokens NUMERIC,
  PRIMARY KEY (stream_id, type_id, ts_epoch, rank, id)
) WITHOUT ROWID;`;
/** One table: the metric columns and the line, clustered by (stream, type, ts); the key is the identity too. */
const CLUSTERED_SCHEMA = `
CREATE TABLE names (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name));
CREATE TABLE events (
  stream_id INTEGER NOT NULL, type_id INTEGER NOT NULL, ts_epoch NUMERIC NOT NULL, rank REAL NOT NULL, id INTEGER NOT NULL,
  issue NUMERIC, stage TEXT, result TEXT, duration_s NUMERIC, cost_usd NUMERIC, model TEXT, input_tokens NUMERIC, output_tokens NUMERIC,
  line TEXT NOT NULL,
  PRIMARY KEY (stream_id, type_id, ts_epoch, rank, id)
) WITHOUT ROWID;`;
const COMPACT_INDEXES = [
  'CREATE INDEX events_log_order ON events(stream_id, ts_epoch, rank)',
  'CREATE INDEX events_issue ON events(stream_id, issue, ts_epoch, rank) WHERE issue != 0',
];

function loadCompact(db: Database, data: Row[][], st: Settings, encode?: (s: string) => string, clustered = false): { loadMs: number; indexMs: Record<string, number>; codes: Map<string, number> } {
  db.exec(clustered ? CLUSTERED_SCHEMA : COMPACT_SCHEMA);
  if (!st.defer) for (const sql of COMPACT_INDEXES) db.exec(sql);
  const codes = new Map<string, number>();
  const addName = db.prepare('INSERT INTO names (kind, name) VALUES (?, ?)');
  const code = (kind: string, name: string): number => {
    const k = `${kind}\0${name}`;
    let c = codes.get(k);
    if (c === undefined) {
      c = Number(addName.run(kind, name).lastInsertRowid);
      codes.set(k, c);
    }
    return c;
  };
  const insLine = clustered ? undefined : db.prepare('INSERT INTO lines (id, line) VALUES (?, ?)');
  const ins = clustered
    ? db.prepare(`INSERT INTO events (stream_id, type_id, ts_epoch, rank, id, issue, stage, result, duration_s, cost_usd, model,
      input_tokens, output_tokens, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    : db.prepare(`INSERT INTO events (stream_id, type_id, ts_epoch, rank, id, issue, stage, result, duration_s, cost_usd, model,
      input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const batch = db.transaction((k: number, rows: Row[]) => {
    const stream = code('stream', 'events');
    for (const { offset, e, line } of rows) {
      const id = k * 2 ** 40 + offset;
      const text = encode ? encode(line) : line;
      if (insLine) {
        insLine.run(id, text);
        ins.run(stream, code('type', e.type ?? ''), e.ts_epoch, k, id, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model,
          e.input_tokens, e.output_tokens);
      } else {
        ins.run(stream, code('type', e.type ?? ''), e.ts_epoch, k, id, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model,
          e.input_tokens, e.output_tokens, text);
      }
    }
  });
  const loadMs = time(() => {
    data.forEach((rows, k) => {
      for (let i = 0; i < rows.length; i += st.txRows) batch.immediate(k + 1, rows.slice(i, i + st.txRows));
    });
  });
  const indexMs: Record<string, number> = {};
  if (st.defer) for (const sql of COMPACT_INDEXES) indexMs[sql.split(' ')[2]!] = time(() => db.exec(sql));
  return { loadMs, indexMs, codes };
}

/** The queries behind the heaviest helpers (src/store/read-sql.ts shapes), for today's schema. */
function queriesToday(db: Database, now: number): Record<string, () => unknown> {
  const day = 86400;
  const page = db.prepare(`SELECT line, ts_epoch, stream, rank, "offset" FROM events WHERE stream IN ('events') AND ts_epoch <= ?
    ORDER BY ts_epoch DESC, stream DESC, rank DESC, "offset" DESC LIMIT 50 OFFSET ?`);
  const count = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE stream IN ('events') AND ts_epoch <= ?`);
  const pagePipe = db.prepare(`SELECT line, ts_epoch, stream, rank, "offset" FROM events WHERE stream IN ('events')
    AND (type = 'pipeline' OR substr(type, 1, 9) = 'pipeline.') AND ts_epoch <= ? ORDER BY ts_epoch DESC, stream DESC, rank DESC, "offset" DESC LIMIT 50 OFFSET 5000`);
  const countPipe = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE stream IN ('events') AND type >= 'pipeline' AND type < 'pipeline/'
    AND (type = 'pipeline' OR type >= 'pipeline.') AND ts_epoch <= ?`);
  const events30 = db.prepare(`SELECT type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens
    FROM events INDEXED BY events_type_time WHERE stream IN ('events') AND type IN ('pipeline.completed')
    AND ts_epoch >= ? AND ts_epoch <= ? ORDER BY ts_epoch, stream, rank, "offset"`);
  const costDays = db.prepare(`SELECT CAST(floor(ts_epoch / 86400.0) AS INTEGER) AS k0, COUNT(*) n, TOTAL(CASE WHEN cost_usd > 0 THEN cost_usd
    ELSE COALESCE(input_tokens, 0) / 1e6 * 3 + COALESCE(output_tokens, 0) / 1e6 * 15 END) s FROM events INDEXED BY events_type_time
    WHERE stream IN ('events') AND type IN ('cost.record', 'pipeline.cost') AND ts_epoch >= ? GROUP BY k0`);
  const heat = db.prepare(`SELECT stage k0, COUNT(*) n FROM events INDEXED BY events_type_time WHERE stream IN ('events') AND type IN ('stage.failed') GROUP BY k0`);
  const issue = db.prepare(`SELECT type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, line
    FROM events INDEXED BY events_issue WHERE stream IN ('events') AND issue = 200 AND issue != 0 ORDER BY ts_epoch, stream, rank, "offset"`);
  const timeline = db.prepare(`SELECT type, ts_epoch, issue, stage, result, line FROM events WHERE stream IN ('events') AND ts_epoch >= ? AND ts_epoch <= ?
    ORDER BY ts_epoch, stream, rank, "offset"`);
  return {
    'activity p1 (count + page)': () => [count.get(now), page.all(now, 0)],
    'activity pipeline off 5000': () => [countPipe.get(now), pagePipe.all(now)],
    'pipeline.completed 30 d (DORA)': () => events30.all(now - 30 * day, now),
    'cost by day 30 d': () => costDays.all(now - 30 * day),
    'failure heatmap all time': () => heat.all(),
    'issue events (issue 200)': () => issue.all(),
    'timeline 24 h': () => timeline.all(now - day, now),
  };
}

/** The same queries on the compact schema: type names resolved to codes in JS, lines joined by id. */
function queriesCompact(db0: Database, now: number, codes: Map<string, number>, decode?: (s: string) => string, clustered = false): Record<string, () => unknown> {
  // Clustered: the line is in the row, so the join to lines goes.
  const db = clustered
    ? { prepare: (sql: string) => db0.prepare(sql.replace(/ JOIN lines l ON l\.id = e\.id/g, '').replace(/\bl\.line\b/g, 'e.line')) }
    : db0;
  const day = 86400;
  const s = codes.get('stream\0events')!;
  const types = (f: (t: string) => boolean) => [...codes].filter(([k]) => k.startsWith('type\0') && f(k.slice(5))).map(([, v]) => v);
  const inList = (xs: number[]) => (xs.length ? xs.join(', ') : '-1');
  const pipe = inList(types((t) => t === 'pipeline' || t.startsWith('pipeline.')));
  const done = inList(types((t) => t === 'pipeline.completed'));
  const cost = inList(types((t) => t === 'cost.record' || t === 'pipeline.cost'));
  const failed = inList(types((t) => t === 'stage.failed'));
  const dec = (rows: { line: string }[]) => (decode ? rows.map((r) => ({ ...r, line: decode(r.line) })) : rows);
  const page = db.prepare(`SELECT l.line, e.ts_epoch, e.rank, e.id FROM events e INDEXED BY events_log_order JOIN lines l ON l.id = e.id
    WHERE e.stream_id = ${s} AND e.ts_epoch <= ? ORDER BY e.ts_epoch DESC, e.rank DESC, e.id DESC LIMIT 50 OFFSET ?`);
  const count = db.prepare(`SELECT COUNT(*) AS n FROM events INDEXED BY events_log_order WHERE stream_id = ${s} AND ts_epoch <= ?`);
  const pagePipe = db.prepare(`SELECT l.line, e.ts_epoch, e.rank, e.id FROM events e INDEXED BY events_log_order JOIN lines l ON l.id = e.id
    WHERE e.stream_id = ${s} AND e.type_id IN (${pipe}) AND e.ts_epoch <= ? ORDER BY e.ts_epoch DESC, e.rank DESC, e.id DESC LIMIT 50 OFFSET 5000`);
  const countPipe = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE stream_id = ${s} AND type_id IN (${pipe}) AND ts_epoch <= ?`);
  const events30 = db.prepare(`SELECT type_id, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens
    FROM events WHERE stream_id = ${s} AND type_id IN (${done}) AND ts_epoch >= ? AND ts_epoch <= ? ORDER BY ts_epoch, rank, id`);
  const costDays = db.prepare(`SELECT CAST(floor(ts_epoch / 86400.0) AS INTEGER) AS k0, COUNT(*) n, TOTAL(CASE WHEN cost_usd > 0 THEN cost_usd
    ELSE COALESCE(input_tokens, 0) / 1e6 * 3 + COALESCE(output_tokens, 0) / 1e6 * 15 END) s FROM events
    WHERE stream_id = ${s} AND type_id IN (${cost}) AND ts_epoch >= ? GROUP BY k0`);
  const heat = db.prepare(`SELECT stage k0, COUNT(*) n FROM events WHERE stream_id = ${s} AND type_id IN (${failed}) GROUP BY k0`);
  const issue = db.prepare(`SELECT e.type_id, e.ts_epoch, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens,
    e.output_tokens, l.line FROM events e INDEXED BY events_issue JOIN lines l ON l.id = e.id WHERE e.stream_id = ${s} AND e.issue = 200
    AND e.issue != 0 ORDER BY e.ts_epoch, e.rank, e.id`);
  const timeline = db.prepare(`SELECT e.type_id, e.ts_epoch, e.issue, e.stage, e.result, l.line FROM events e INDEXED BY events_log_order
    JOIN lines l ON l.id = e.id WHERE e.stream_id = ${s} AND e.ts_epoch >= ? AND e.ts_epoch <= ? ORDER BY e.ts_epoch, e.rank, e.id`);
  return {
    'activity p1 (count + page)': () => [count.get(now), dec(page.all(now, 0) as { line: string }[])],
    'activity pipeline off 5000': () => [countPipe.get(now), dec(pagePipe.all(now) as { line: string }[])],
    'pipeline.completed 30 d (DORA)': () => events30.all(now - 30 * day, now),
    'cost by day 30 d': () => costDays.all(now - 30 * day),
    'failure heatmap all time': () => heat.all(),
    'issue events (issue 200)': () => dec(issue.all() as { line: string }[]),
    'timeline 24 h': () => dec(timeline.all(now - day, now) as { line: string }[]),
  };
}

const parsed = parseAll();
const nRows = parsed.rows.reduce((a, r) => a + r.length, 0);
process.stdout.write(`${JSON.stringify({ log: o.log, rows: nRows, mb: +(logBytes / 1e6).toFixed(1), readParseNormaliseMs: Math.round(parsed.ms),
  jsonParseAndNormaliseMs: Math.round(parsed.parseMs) })}\n`);

for (const variant of String(o.variant).split(',')) {
  fresh(o.db);
  // A variant is a dash-joined set of flags: compact, tokens, deferred, sync-off, big-cache, tx-200k, tx-5k ('today' = none).
  const flags = new Set(variant.split('-').reduce<string[]>((a, p, i, all) => (p === 'off' || p === 'cache' || /^\d/.test(p) ? a : [...a, p === 'sync' ? 'sync-off'
    : p === 'big' ? 'big-cache' : p === 'tx' ? `tx-${all[i + 1]}` : p]), []));
  const st: Settings = { txRows: flags.has('tx-200k') ? 200_000 : flags.has('tx-5k') ? 5_000 : 50_000, defer: flags.has('deferred') };
  if (flags.has('sync-off')) st.sync = 'OFF';
  if (flags.has('big-cache')) Object.assign(st, { cacheKb: 65536, mmap: 256 * 1024 * 1024, tempMemory: true });
  const compact = flags.has('compact') || flags.has('clustered');
  let db: Database;
  let close: () => void;
  if (compact) {
    const s = openStore(`${o.db}.unused`);
    s.close();
    fresh(`${o.db}.unused`);
    const Sqlite = (await import('better-sqlite3')).default;
    db = new Sqlite(o.db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    close = () => db.close();
  } else {
    openStore(o.db).close();
    const own = new Database(o.db);
    db = own;
    close = () => own.close();
  }
  if (st.sync) db.pragma(`synchronous = ${st.sync}`);
  if (st.cacheKb) db.pragma(`cache_size = -${st.cacheKb}`);
  if (st.mmap) db.pragma(`mmap_size = ${st.mmap}`);
  if (st.tempMemory) db.pragma('temp_store = MEMORY');
  const codec = flags.has('tokens') ? tokenCodec(learnTokens(parsed.rows[0]!.slice(0, 20_000).map((r) => r.line))) : undefined;
  const r = compact ? loadCompact(db, parsed.rows, st, codec?.encode, flags.has('clustered')) : { ...loadToday(db, parsed.rows, st), codes: new Map<string, number>() };
  db.pragma('wal_checkpoint(TRUNCATE)');
  const indexTotal = Object.values(r.indexMs).reduce((a, b) => a + b, 0);
  const q = compact ? queriesCompact(db, o.end, r.codes, codec?.decode, flags.has('clustered')) : queriesToday(db, o.end);
  const lat: Record<string, number> = {};
  for (const [name, fn] of Object.entries(q)) lat[name] = +latency(fn).toFixed(1);
  const tables = db.prepare(`SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC`).all() as { name: string; bytes: number }[];
  const bytes = sizeOf(o.db);
  process.stdout.write(`${JSON.stringify({
    variant, loadRowsPerS: Math.round(nRows / (r.loadMs / 1000)), indexMs: r.indexMs,
    loadPlusIndexRowsPerS: Math.round(nRows / ((r.loadMs + indexTotal) / 1000)),
    sizeRatio: +(bytes / logBytes).toFixed(2), mb: +(bytes / 1e6).toFixed(1),
    parts: Object.fromEntries(tables.filter((t) => t.bytes > 1e5).map((t) => [t.name, +(t.bytes / 1e6).toFixed(1)])), latencyMs: lat,
  })}\n`);
  close();
}
fresh(o.db);
