import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { generateLog } from '../fixtures/generate.js';
import { createReader, type Reader } from '../src/api/reader.js';
import { importAll } from '../src/import/import.js';
import { openStore } from '../src/store/open.js';
import { openPgStore } from '../src/store/pg/open.js';
import { assertFound, readerHelpers } from './helper-cases.js';
import { persistentPg } from './pg-cluster.js';
import { fmt, summarize, type Measure, type Row } from './util.js';

/**
 * The scaling table of issue #24: every helper of ./helper-cases.ts, through
 * the library's reader, on three generated logs — BASE events over 365 days,
 * BIG events over the same 365 days, and BASE's daily rate over three years
 * — from SQLite and from PostgreSQL; `now` at each log's newest event. Logs and
 * imported mirrors are kept under WORKDIR/scaling/, named by what made them
 * (the generator's parameters and code; the store, ingest and import code
 * and sql/ for a mirror), so a second run neither regenerates nor re-imports,
 * and a change to the ingest (rollups) imports again by itself.
 */

export type Engine = 'sqlite' | 'pg';

export interface ScalingOptions {
  /** The bench's work dir; everything goes to WORKDIR/scaling/. */
  workdir: string;
  /** The package root (its dist/ and sql/ name the caches). */
  root: string;
  /** Epoch of each log's last event, and the helpers' `now`. */
  end: number;
  /** Lines of the 365-day base log (its daily rate is the 3-year log's). */
  base: number;
  /** Lines of the denser 365-day log. */
  big: number;
  engines: Engine[];
  /** A PostgreSQL server to create the mirrors' databases on (default: a cluster kept in WORKDIR/scaling/pg). */
  pgUrl?: string;
  parseWorker: boolean;
  log: (m: string) => void;
}

export interface ScalingLog {
  /** Column label: 1M, 10M, 3y. */
  label: string;
  lines: number;
  days: number;
  dir: string;
  bytes: number;
  /** ms the generation took, or undefined when the log was already there. */
  generatedMs?: number;
  /** The helpers' `now`: the log's newest event (the generator stops short of its endEpoch, by 46 h on the 3-year log). */
  now?: number;
}

export interface ScalingImport {
  engine: Engine;
  log: string;
  rows: number;
  /** ms the import took (when it was made, if cached). */
  ms: number;
  cached: boolean;
  /** ms spent calling the helpers on this mirror (warm calls included). */
  helpersMs: number;
}

export interface ScalingResult {
  logs: ScalingLog[];
  imports: ScalingImport[];
  /** Per helper, per `${engine} ${log label}`, the timed calls. */
  helpers: { name: string; ms: Record<string, Measure> }[];
  /** Timed calls per helper and log, after a warm one. */
  runs: number;
  goals: string[];
  /** The section's wall time, ms. */
  ms: number;
}

const DAYS_1Y = 365;
const DAYS_3Y = 3 * 365;
/**
 * Pipelines per issue: issues open and close as a tracker's do, so one
 * issue's events are the same on every log. With the generator's default
 * pool (400 issues for the whole span) issue events would grow with the log,
 * which no real tracker's issue does.
 */
const ISSUE_LIFE = 5;
/**
 * Timed calls per helper and log: most helpers take a few ms, where one busy
 * moment of the machine moves a median of 5 by a third (growth verdicts
 * flipped between runs minutes apart); 15 cost the section seconds.
 */
const RUNS = 15;
/** Issue #24's goals. */
const SQLITE_MS = 20;
const PG_MS = 100;
const GROWTH = 1.3;

/** 1M, 10M, 100k, 2.5M. */
export const countLabel = (n: number): string =>
  n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n);

/** 1m, 10M, 100k, 2.5m, 300000 -> lines. */
export function parseCount(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(s);
  if (!m) throw new Error(`--scaling-sizes: expected a count such as 100k or 1M, got ${JSON.stringify(s)}`);
  const n = Math.round(Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6));
  if (n < 1000) throw new Error(`--scaling-sizes: ${s} is too small for a 365-day log`);
  return n;
}

/**
 * The store's modules that only read: they shape answers, not mirrors, so a
 * change to them keeps the cached mirrors (re-importing both engines' three
 * logs costs 15-20 minutes). A module that writes must not be named here.
 */
const READ_ONLY_MODULES = new Set(['read-sql.js', 'day-plan.js', 'ad-hoc.js', 'read-pages.js']);

/** A short digest of the files under the paths that `counts`, in name order: what the cache entries are named by. */
function digest(paths: string[], extra: string, counts: (name: string) => boolean = () => true): string {
  const h = createHash('sha256').update(extra);
  const walk = (p: string): void => {
    if (!existsSync(p)) return;
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (counts(name)) {
      h.update(name).update(readFileSync(p));
    }
  };
  paths.forEach(walk);
  return h.digest('hex').slice(0, 10);
}

const dirBytes = (dir: string) => readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);

export async function scaling(o: ScalingOptions): Promise<ScalingResult> {
  const t0 = performance.now();
  if (!(o.big > o.base)) throw new Error(`--scaling-sizes: the second size (${o.big}) must be larger than the first (${o.base})`);
  const cache = join(o.workdir, 'scaling');
  mkdirSync(cache, { recursive: true });
  const genCode = digest([join(o.root, 'dist/fixtures/generate.js')], '');
  // What a mirror's content depends on: its schema and the code that parses and writes it (not source maps or types).
  const writes = (name: string) => (name.endsWith('.js') && !READ_ONLY_MODULES.has(name)) || name.endsWith('.sql');
  const mirrorCode = digest(['model', 'store', 'ingest', 'import'].map((d) => join(o.root, 'dist/src', d)).concat(join(o.root, 'sql')), '', writes);

  // ---- the logs
  const specs: [string, number, number][] = [
    [countLabel(o.base), o.base, DAYS_1Y],
    [countLabel(o.big), o.big, DAYS_1Y],
    ['3y', o.base * 3, DAYS_3Y],
  ];
  const logs: ScalingLog[] = specs.map(([label, lines, days]) => {
    const dir = join(cache, `log-${lines}-${days}d-seed1-end${o.end}-3files-life${ISSUE_LIFE}-gen${genCode}`);
    let generatedMs: number | undefined;
    if (!existsSync(dir)) {
      o.log(`scaling: generating ${lines} lines over ${days} days into ${dir}`);
      const t = performance.now();
      const tmp = `${dir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      generateLog({ dir: tmp, lines, days, linesPerFile: Math.ceil(lines / 3), seed: 1, endEpoch: o.end, issueLife: ISSUE_LIFE });
      renameSync(tmp, dir);
      generatedMs = performance.now() - t;
      // Logs of the same shape made by an older generator.
      for (const e of readdirSync(cache)) {
        if (e.startsWith(`log-${lines}-${days}d-`) && join(cache, e) !== dir) rmSync(join(cache, e), { recursive: true, force: true });
      }
    }
    return { label, lines, days, dir, bytes: dirBytes(dir), generatedMs };
  });
  const logKey = (l: ScalingLog) => l.dir.slice(l.dir.lastIndexOf('/') + 5); // without "log-"
  /** The keys of every finished log on disk, this run's and those of other sizes (--scaling-sizes). */
  const keptLogKeys = () => readdirSync(cache).filter((e) => e.startsWith('log-') && !e.endsWith('.tmp')).map((e) => e.slice(4));
  const helpers = readerHelpers(o.end);
  const ms = new Map<string, Record<string, Measure>>(helpers.map(([name]) => [name, {}]));
  const imports: ScalingImport[] = [];

  /** Times every helper on every log's reader, interleaved (a busy moment of the machine falls on every log alike). */
  const time = (engine: Engine, readers: Reader[]) => {
    const spent = readers.map(() => 0);
    // `now` at each log's own end, so that a 24-hour window holds the last day of every log.
    const perLog = readers.map((r, i) => readerHelpers((logs[i]!.now = r.newestEpoch() ?? o.end)));
    for (const [k, [name]] of helpers.entries()) {
      const times = readers.map((): number[] => []);
      for (let round = -1; round < RUNS; round++) {
        // Every other round backwards: a call pays for the garbage of the call before it, and the 10M call's should fall on the 1M and 3y logs alike.
        for (let j = 0; j < readers.length; j++) {
          const i = round % 2 === 0 ? j : readers.length - 1 - j;
          const fn = perLog[i]![k]![1];
          const t = performance.now();
          const answer = fn(readers[i]!);
          const d = performance.now() - t;
          spent[i]! += d;
          if (round >= 0) times[i]!.push(d);
          else assertFound(name, answer);
        }
      }
      logs.forEach((l, i) => { ms.get(name)![`${engine} ${l.label}`] = summarize(times[i]!); });
    }
    return spent;
  };

  // ---- SQLite
  if (o.engines.includes('sqlite')) {
    // Mirrors of logs no longer on disk (a generator change replaced them): nothing can ask for them again.
    const kept = keptLogKeys();
    for (const e of readdirSync(cache)) {
      if (e.startsWith('sqlite-') && !kept.some((k) => e.startsWith(`sqlite-${k}-`))) rmSync(join(cache, e), { force: true });
    }
    const dbs = logs.map((l) => {
      const db = join(cache, `sqlite-${logKey(l)}-mirror${mirrorCode}.db`);
      const meta = `${db}.json`;
      if (existsSync(db) && existsSync(meta)) {
        const m = JSON.parse(readFileSync(meta, 'utf8')) as { rows: number; ms: number };
        imports.push({ engine: 'sqlite', log: l.label, rows: m.rows, ms: m.ms, cached: true, helpersMs: 0 });
        return db;
      }
      // Mirrors of this log made by other code, and a half-made one.
      for (const e of readdirSync(cache)) {
        if (e.startsWith(`sqlite-${logKey(l)}-`)) rmSync(join(cache, e), { force: true });
      }
      o.log(`scaling: importing the ${l.label} log into SQLite`);
      const tmp = `${db}.tmp`;
      const t = performance.now();
      const s = openStore(tmp);
      const rows = importAll(s, l.dir, { legacy: false, parseWorker: o.parseWorker }).rows;
      s.close();
      const took = performance.now() - t;
      for (const sfx of ['', '-wal', '-shm']) if (existsSync(tmp + sfx)) renameSync(tmp + sfx, db + sfx);
      writeFileSync(meta, `${JSON.stringify({ rows, ms: took })}\n`);
      imports.push({ engine: 'sqlite', log: l.label, rows, ms: took, cached: false, helpersMs: 0 });
      return db;
    });
    o.log('scaling: timing the helpers from SQLite');
    const readers = logs.map((l, i) => createReader({ dir: l.dir, db: dbs[i]!, source: 'sqlite' }));
    try {
      const spent = time('sqlite', readers);
      logs.forEach((l, i) => { imports.find((x) => x.engine === 'sqlite' && x.log === l.label)!.helpersMs = spent[i]!; });
    } finally {
      readers.forEach((r) => r.close());
    }
  }

  // ---- PostgreSQL: one database per log, on a cluster kept between runs (or --pg-url's server)
  if (o.engines.includes('pg')) {
    const cluster = o.pgUrl ? undefined : await persistentPg(join(cache, 'pg'));
    try {
      const admin = new pg.Client({ connectionString: o.pgUrl ?? cluster!.url });
      await admin.connect();
      const urlOf = (name: string) => {
        const u = new URL(o.pgUrl ?? cluster!.url);
        u.pathname = `/${name}`;
        return u.toString();
      };
      const urls: string[] = [];
      // Named by the log and the mirror code: jm_scale_<log digest>_<code digest>.
      const prefixOf = (key: string) => `jm_scale_${createHash('sha256').update(key).digest('hex').slice(0, 10)}_`;
      try {
        if (cluster) {
          // The kept cluster's mirrors of logs no longer on disk; a server of --pg-url may hold other runs' and is left alone.
          const kept = keptLogKeys().map(prefixOf);
          const all = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'jm\\_scale\\_%'");
          for (const { datname } of all.rows) {
            if (kept.some((p) => datname.startsWith(p))) continue;
            // A database still in use cannot go; that costs disk, not the run.
            await admin.query(`DROP DATABASE ${admin.escapeIdentifier(datname)}`).catch((err: Error) => o.log(`scaling: could not drop ${datname}: ${err.message}`));
          }
        }
        for (const l of logs) {
          const prefix = prefixOf(logKey(l));
          const name = `${prefix}${mirrorCode}`;
          const found = await admin.query<{ datname: string; meta: string | null }>(
            "SELECT datname, shobj_description(oid, 'pg_database') AS meta FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
          const done = found.rows.find((r) => r.datname === name && r.meta);
          if (done) {
            const m = JSON.parse(done.meta!) as { rows: number; ms: number };
            imports.push({ engine: 'pg', log: l.label, rows: m.rows, ms: m.ms, cached: true, helpersMs: 0 });
          } else {
            for (const r of found.rows) await admin.query(`DROP DATABASE ${admin.escapeIdentifier(r.datname)}`);
            await admin.query(`CREATE DATABASE ${name}`);
            o.log(`scaling: importing the ${l.label} log into PostgreSQL (${name})`);
            const t = performance.now();
            const s = openPgStore(urlOf(name), { hostId: 'bench' });
            const rows = importAll(s, l.dir, { legacy: false }).rows;
            s.close();
            const took = performance.now() - t;
            const c = new pg.Client({ connectionString: urlOf(name) });
            await c.connect();
            await c.query('ANALYZE');
            await c.end();
            // The mark of a finished import: a database without it is imported again.
            await admin.query(`COMMENT ON DATABASE ${name} IS '${JSON.stringify({ rows, ms: took, log: logKey(l) })}'`);
            imports.push({ engine: 'pg', log: l.label, rows, ms: took, cached: false, helpersMs: 0 });
          }
          urls.push(urlOf(name));
        }
      } finally {
        await admin.end();
      }
      o.log('scaling: timing the helpers from PostgreSQL');
      const readers = logs.map((l, i) => createReader({ dir: l.dir, db: urls[i]! }));
      try {
        const spent = time('pg', readers);
        logs.forEach((l, i) => { imports.find((x) => x.engine === 'pg' && x.log === l.label)!.helpersMs = spent[i]!; });
      } finally {
        readers.forEach((r) => r.close());
      }
    } finally {
      cluster?.stop();
    }
  }

  const [b, g, y] = logs.map((l) => l.label) as [string, string, string];
  return {
    logs,
    imports,
    helpers: helpers.map(([name]) => ({ name, ms: ms.get(name)! })),
    runs: RUNS,
    goals: [
      `SQLite ${g} < ${SQLITE_MS} ms`, `PostgreSQL ${g} < ${PG_MS} ms`,
      `growth ${y}/${b} (same daily rate, 3x the days) <= ${GROWTH}x, on each engine`,
    ],
    ms: performance.now() - t0,
  };
}

/** The table: helper | SQLite 1M | SQLite 10M | 10M/1M | SQLite 3y | 3y/1M | SQLite met | the same for PostgreSQL. */
export function scalingTable(r: ScalingResult): { head: string[]; cells: string[][] } {
  const [b, g, y] = r.logs.map((l) => l.label) as [string, string, string];
  const engines = (['sqlite', 'pg'] as Engine[]).filter((e) => r.imports.some((i) => i.engine === e));
  const name = (e: Engine) => (e === 'sqlite' ? 'SQLite' : 'PG');
  const head = ['helper', ...engines.flatMap((e) => [`${name(e)} ${b}`, `${name(e)} ${g}`, `${g}/${b}`, `${name(e)} ${y}`, `${y}/${b}`, `${name(e)} goals met`])];
  const cells = r.helpers.map((h) => [h.name, ...engines.flatMap((e) => {
    const [mb, mg, my] = [b, g, y].map((l) => h.ms[`${e} ${l}`]!.median) as [number, number, number];
    const limit = e === 'sqlite' ? SQLITE_MS : PG_MS;
    const missed = [...(mg < limit ? [] : [`${g} >= ${limit} ms`]), ...(my / mb <= GROWTH ? [] : [`${y}/${b} > ${GROWTH}x`])];
    return [`${fmt(mb)} ms`, `${fmt(mg)} ms`, `${fmt(mg / mb, 2)}x`, `${fmt(my)} ms`, `${fmt(my / mb, 2)}x`, missed.length === 0 ? 'yes' : `NO (${missed.join(', ')})`];
  })]);
  return { head, cells };
}

/** The logs and their imports: lines, size, and what making them took. */
export function scalingLogsTable(r: ScalingResult): { head: string[]; cells: string[][] } {
  const head = ['log', 'lines', 'days', 'MB', 'generated', 'engine', 'rows', 'import', 'import rows/s', `helper calls (${r.runs + 1} each)`];
  const cells = r.imports.map((i) => {
    const l = r.logs.find((x) => x.label === i.log)!;
    return [l.label, l.lines.toLocaleString('en-US'), String(l.days), fmt(l.bytes / 1e6, 0),
      l.generatedMs === undefined ? 'cached' : `${fmt(l.generatedMs / 1000)} s`, i.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      i.rows.toLocaleString('en-US'), `${fmt(i.ms / 1000)} s${i.cached ? ' (cached)' : ''}`, fmt((i.rows / i.ms) * 1000, 0), `${fmt(i.helpersMs / 1000)} s`];
  });
  return { head, cells };
}

/** One line per goal in the bench's main table: how many helpers meet it. */
export function scalingRows(r: ScalingResult): Row[] {
  const [b, g, y] = r.logs.map((l) => l.label) as [string, string, string];
  const rows: Row[] = [];
  const n = r.helpers.length;
  for (const e of ['sqlite', 'pg'] as Engine[]) {
    if (!r.imports.some((i) => i.engine === e)) continue;
    const label = e === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const limit = e === 'sqlite' ? SQLITE_MS : PG_MS;
    const at = r.helpers.map((h) => h.ms[`${e} ${g}`]!.median);
    const under = at.filter((v) => v < limit).length;
    rows.push({ area: 'scaling', case: `helpers under ${limit} ms from ${label} at ${g} events (slowest shown)`, value: Math.max(...at), unit: 'ms',
      goal: `all ${n} < ${limit} ms`, met: under === n, note: `${under} of ${n}` });
    const growth = r.helpers.map((h) => h.ms[`${e} ${y}`]!.median / h.ms[`${e} ${b}`]!.median);
    const within = growth.filter((v) => v <= GROWTH).length;
    rows.push({ area: 'scaling', case: `helpers within ${GROWTH}x from ${label}, ${y} vs ${b} (largest growth shown)`, value: Math.max(...growth), unit: 'x',
      goal: `all ${n} <= ${GROWTH}x`, met: within === n, note: `${within} of ${n}` });
  }
  return rows;
}
