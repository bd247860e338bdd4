import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, fsyncSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import autocannon from 'autocannon';
import ndjson from 'ndjson';
import { createReadStream } from 'node:fs';
import { generateLog } from '../fixtures/generate.js';
import { importAll } from '../src/import/import.js';
import { createReader, type Reader } from '../src/api/reader.js';
import { ScanSource } from '../src/read/scan-source.js';
import { openStore } from '../src/store/open.js';
import { SyncPg } from '../src/store/pg/bridge.js';
import { openPgStore } from '../src/store/pg/open.js';
import { startPg } from '../fixtures/pg-server.js';
import { createTailer } from '../src/tailer/tailer.js';
import { createWriter } from '../src/writer/writer.js';
import { activityFeed } from '../src/metrics/activity.js';
import { costBreakdown, costTrend } from '../src/metrics/costs.js';
import { doraGrades, doraTrend } from '../src/metrics/dora.js';
import { metricsHistory } from '../src/metrics/history.js';
import { bottlenecks, failureHeatmap, stagePerformance } from '../src/metrics/stages.js';
import { throughputTrend } from '../src/metrics/throughput.js';
import { timeline } from '../src/metrics/timeline.js';
import { issueEvents } from '../src/metrics/issue-events.js';
import type { EventSource } from '../src/read/source.js';
import { table } from '../src/cli/format.js';
import { runtimeLeg, type RuntimeLeg } from './bun-leg.js';
import { assertFound, readerHelpers } from './helper-cases.js';
import { parseCount, scaling, scalingLogsTable, scalingRows, scalingTable, type Engine, type ScalingResult } from './scaling.js';
import { bareImportLoop, bareParseLoop, rawDualWriteLoop, streamPaths, WholeFileSource } from './baselines.js';
import { generateShipwrightShaped } from './shipwright-shape.js';
import { fmt, markdownTable, measure, percentile, summarize, type Measure, type Row } from './util.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

const o = new Command('bench')
  .option('--events <n>', 'lines in the generated log', Number, 1_000_000)
  .option('--runs <n>', 'runs per case (reads run 5 + this)', Number, 3)
  .option('--rss-gb <gb>', 'size of the log for the peak-RSS import (0 skips it)', Number, 1)
  .option('--only <sections>', 'comma list of: import,writer,reads,lookups,start,scan,tail,idle,rss,serve,query,pg,bun,scaling (scaling is not in the default run: see --scaling-sizes)')
  .option('--pg-url <url>', 'pg section: an empty PostgreSQL database to use (default: start a throwaway server with initdb)')
  .option('--workdir <dir>', 'where data goes', join(ROOT, '.bench'))
  .option('--json', 'one JSON document on stdout')
  .option('--markdown', 'the table as Markdown with its machine line, as BENCHMARKS.md shows it')
  .option('--scaling-sizes <base,big>', 'scaling (only when named in --only: its first run generates 14M events and imports them into both engines, 25 min here, then 1.5 min from its cache): ' +
    'the 365-day logs compared; the third log is the first one\'s daily rate over 3 years', '1M,10M')
  .option('--scaling-engines <list>', 'scaling: sqlite,pg or one of them', 'sqlite,pg')
  .option('--no-parse-worker', 'bulk imports parse on the main thread (the A/B of the parse worker, issue #15)')
  .parse()
  .opts();

const rows: Row[] = [];
const only: string[] | undefined = o.only ? String(o.only).split(',') : undefined;
/** A section of the default run, or one named in --only; `scaling` only when named (it takes tens of minutes, BENCHMARKS.md). */
const want = (s: string) => (only ? only.includes(s) : s !== 'scaling');
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
const add = (r: Row) => rows.push(r);
const rate = (n: number, ms: number) => (n / ms) * 1000;

mkdirSync(o.workdir, { recursive: true });
const logs = join(o.workdir, `logs-${o.events}`);
const END = 1770768000;
/** Only the scaling section, which makes its own logs. */
const scalingOnly = !!only && only.every((s) => s === 'scaling');
if (!scalingOnly && !existsSync(join(logs, 'events.jsonl'))) {
  log(`generating ${o.events} lines into ${logs}`);
  rmSync(logs, { recursive: true, force: true });
  generateLog({ dir: logs, lines: o.events, linesPerFile: Math.ceil(o.events / 3), seed: 1, endEpoch: END });
}
const paths = scalingOnly ? [] : streamPaths(logs);
/** The Shipwright-shaped log of the same length, generated on first use. */
const shipLogs = (): string => {
  const dir = join(o.workdir, `shipwright-${o.events}`);
  if (!existsSync(join(dir, 'events.jsonl'))) {
    log(`generating ${o.events} Shipwright-shaped lines into ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    generateShipwrightShaped({ dir, lines: o.events, endEpoch: END, fixtureDir: join(ROOT, 'fixtures/shipwright') });
  }
  return dir;
};
const logBytes = paths.reduce((a, p) => a + statSync(p).size, 0);
const dbPath = join(o.workdir, 'mirror.db');
const freshDb = (p: string) => {
  for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
};

// ---------------------------------------------------------------- import
/** Writes the valid lines of a log to one file (not timed): sqlite-utils stops at the first invalid line. */
const cleanCopy = (dir: string): string => {
  const clean = `${dir}.clean.jsonl`;
  if (existsSync(clean)) return clean;
  const fd = openSync(`${clean}.tmp`, 'w');
  for (const p of streamPaths(dir)) {
    for (const l of readFileSync(p, 'utf8').split('\n')) {
      try {
        const v = JSON.parse(l);
        if (v && typeof v === 'object' && !Array.isArray(v)) writeSync(fd, `${l}\n`);
      } catch {
        // skip
      }
    }
  }
  closeSync(fd);
  renameSync(`${clean}.tmp`, clean);
  return clean;
};
if (want('import') || want('reads') || want('lookups')) {
  // The generated log (its mirror feeds reads and lookups) and one shaped like fixtures/shipwright/ (many types, varied keys).
  const logsToImport: [string, string, string, string][] = [['', logs, dbPath, 'generated']];
  if (want('import')) logsToImport.push([' (Shipwright-shaped log)', shipLogs(), join(o.workdir, 'mirror-shipwright.db'), 'Shipwright-shaped']);
  for (const [suffix, dir, db, label] of logsToImport) {
    log(`import: ${label} log`);
    const logPaths = streamPaths(dir);
    const bytes = logPaths.reduce((a, p) => a + statSync(p).size, 0);
    let rowsImported = 0;
    const imp = measure(o.runs, () => {
      freshDb(db);
      const s = openStore(db);
      rowsImported = importAll(s, dir, { parseWorker: o.parseWorker }).rows;
      s.close();
    });
    const bareDb = join(o.workdir, 'bare.db');
    let bareRows = 0;
    const bare = measure(o.runs, () => {
      freshDb(bareDb);
      openStore(bareDb).close(); // the schema, then the bare loop on its own connection
      const db = new Database(bareDb);
      bareRows = bareImportLoop(db, logPaths);
      db.close();
    });
    const ours = rate(rowsImported, imp.median);
    const limit = rate(bareRows, bare.median);
    add({ area: 'import', case: `bare read + JSON.parse + batched insert (same table)${suffix}`, value: limit, unit: 'rows/s', spread: bare.spread });
    add({ area: 'import', case: `jsonl-mirror import${suffix}`, value: ours, unit: 'rows/s', spread: imp.spread, baseline: 'bare loop', ratio: ours / limit,
      goal: '>= 250,000 rows/s', met: ours >= 250_000, note: `${rowsImported} rows` });
    add({ area: 'import', case: `jsonl-mirror import${suffix}`, value: bytes / 1e6 / (imp.median / 1000), unit: 'MB/s', spread: imp.spread });
    const dbBytes = statSync(db).size + (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0);
    add({ area: 'import', case: `DB size / JSONL size${suffix}`, value: dbBytes / bytes, unit: 'x', goal: '<= 1.5x', met: dbBytes / bytes <= 1.5,
      note: `${fmt(dbBytes / 1e6)} MB for ${fmt(bytes / 1e6)} MB` });
    const su = spawnSync('sqlite-utils', ['--version'], { encoding: 'utf8' });
    if (su.status === 0) {
      const clean = cleanCopy(dir);
      const suDb = join(o.workdir, 'sqlite-utils.db');
      const times: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        freshDb(suDb);
        const t = performance.now();
        execFileSync('sqlite-utils', ['insert', suDb, 'events', clean, '--nl', '--alter'], { stdio: 'ignore' });
        times.push(performance.now() - t);
      }
      freshDb(suDb);
      const m = summarize(times);
      const theirs = rate(rowsImported, m.median);
      add({ area: 'import', case: `sqlite-utils insert --nl --alter (${su.stdout.trim()})${suffix}`, value: theirs, unit: 'rows/s', spread: m.spread });
      add({ area: 'import', case: `jsonl-mirror import vs sqlite-utils${suffix}`, value: ours / theirs, unit: 'x', baseline: 'sqlite-utils',
        goal: '>= 5x', met: ours / theirs >= 5 });
    } else {
      add({ area: 'import', case: `sqlite-utils insert --nl${suffix}`, value: Number.NaN, unit: 'rows/s',
        note: 'skipped: install sqlite-utils (apt-get install sqlite-utils, or pip install sqlite-utils)' });
    }
  }
}

// ---------------------------------------------------------------- writer
if (want('writer')) {
  log('writer');
  const N = 100_000;
  const NF = 2_000;
  const wdir = join(o.workdir, 'writer');
  const event = (i: number) => ({ type: 'stage.completed', issue: i % 400, stage: 'build', duration_s: 12, model: 'sonnet' });
  const reset = () => {
    rmSync(wdir, { recursive: true, force: true });
    mkdirSync(wdir);
    openStore(join(wdir, 'mirror.db')).close();
  };
  const plain = (n: number, sync: boolean) => {
    reset();
    const fd = openSync(join(wdir, 'events.jsonl'), 'a');
    for (let i = 0; i < n; i++) {
      writeSync(fd, `${JSON.stringify({ ts: new Date().toISOString(), ts_epoch: Math.floor(Date.now() / 1000), ...event(i) })}\n`);
      if (sync) fsyncSync(fd);
    }
    closeSync(fd);
  };
  const viaWriter = (n: number, opts: Parameters<typeof createWriter>[0]) => {
    reset();
    const w = createWriter({ ...opts, dir: wdir });
    for (let i = 0; i < n; i++) w.append('events', event(i));
    w.close();
    if (w.stats().mirrored !== n) throw new Error(`writer mirrored ${w.stats().mirrored} of ${n}`);
  };
  const appendFile = (n: number) => {
    reset();
    const p = join(wdir, 'events.jsonl');
    for (let i = 0; i < n; i++) appendFileSync(p, `${JSON.stringify(event(i))}\n`);
  };
  const cases: [string, number, () => void, string?, number?][] = [
    ['plain writeSync (O_APPEND), no mirror', N, () => plain(N, false)],
    ['plain appendFileSync (open per line), no mirror', N, () => appendFile(N)],
    ['raw writeSync + INSERT + COMMIT per event (same schema)', N, () => {
      reset();
      openStore(join(wdir, 'mirror.db')).close();
      const db = new Database(join(wdir, 'mirror.db'));
      rawDualWriteLoop(db, join(wdir, 'events.jsonl'), N, event);
      db.close();
    }],
    ['dual-write per event', N, () => viaWriter(N, { dir: wdir }), '>= 40,000/s and >= 0.9x raw loop', 40_000],
    ['dual-write batched (group commit)', N, () => viaWriter(N, { dir: wdir, mode: 'batched' }), '>= 200,000/s', 200_000],
    ['plain writeSync + fsync per line', NF, () => plain(NF, true)],
    ['dual-write per event + fsync per append', NF, () => viaWriter(NF, { dir: wdir, durability: 'fsync' })],
    ['dual-write batched + fsync every 100 ms', N, () => viaWriter(N, { dir: wdir, mode: 'batched', durability: { intervalMs: 100 } })],
  ];
  let base = 0;
  let baseSync = 0;
  let raw = 0;
  for (const [name, n, fn, goal, target] of cases) {
    const m = measure(o.runs, fn);
    const r = rate(n, m.median);
    if (name.startsWith('plain writeSync (')) base = r;
    if (name.startsWith('plain writeSync + fsync')) baseSync = r;
    if (name.startsWith('raw ')) raw = r;
    const b = name.includes('fsync per') && !name.startsWith('plain') ? baseSync : base;
    add({ area: 'writer', case: name, value: r, unit: 'appends/s', spread: m.spread,
      baseline: name.startsWith('plain writeSync') ? undefined : name.includes('fsync per') ? 'writeSync + fsync' : 'plain writeSync',
      ratio: name.startsWith('plain writeSync') ? undefined : r / b, goal,
      met: target === undefined ? undefined : r >= target && (name !== 'dual-write per event' || r / raw >= 0.9) });
    if (name === 'dual-write per event') {
      add({ area: 'writer', case: 'dual-write per event vs the raw write+insert+commit loop', value: r / raw, unit: 'x', baseline: 'raw loop',
        goal: '>= 0.9x', met: r / raw >= 0.9 });
    }
  }
}

// ---------------------------------------------------------------- reads
if (want('reads')) {
  log('reads');
  if (!existsSync(dbPath)) throw new Error('reads need the import section');
  const now = END;
  const helpers: [string, (s: EventSource) => unknown][] = [
    ['activity (page 1)', (s) => activityFeed(s, { limit: 50 })],
    ['activity type=pipeline, offset 5000', (s) => activityFeed(s, { type: 'pipeline', offset: 5000, limit: 50 })],
    ['cost breakdown (7 d)', (s) => costBreakdown(s, { now })],
    ['cost trend (30 d)', (s) => costTrend(s, { now })],
    ['DORA grades (7 d)', (s) => doraGrades(s, { now })],
    ['DORA trend (30 d)', (s) => doraTrend(s, { now })],
    ['stage performance (7 d)', (s) => stagePerformance(s, { now })],
    ['bottlenecks', (s) => bottlenecks(s, { now })],
    ['failure heatmap (all time)', (s) => failureHeatmap(s, { now })],
    ['throughput trend (30 d)', (s) => throughputTrend(s, { now })],
    ['metrics history (all time)', (s) => metricsHistory(s, { now })],
  ];
  const reader: Reader = createReader({ dir: logs, db: dbPath, source: 'sqlite' });
  // The reader's own source, so each call includes its catch-up, as a dashboard request would.
  const viaReader: Record<string, (r: Reader) => unknown> = {
    'activity (page 1)': (r) => r.activity({ limit: 50 }),
    'activity type=pipeline, offset 5000': (r) => r.activity({ type: 'pipeline', offset: 5000, limit: 50 }),
    'cost breakdown (7 d)': (r) => r.costBreakdown({ now }),
    'cost trend (30 d)': (r) => r.costTrend({ now }),
    'DORA grades (7 d)': (r) => r.doraGrades({ now }),
    'DORA trend (30 d)': (r) => r.doraTrend({ now }),
    'stage performance (7 d)': (r) => r.stagePerformance({ now }),
    bottlenecks: (r) => r.bottlenecks({ now }),
    'failure heatmap (all time)': (r) => r.failureHeatmap({ now }),
    'throughput trend (30 d)': (r) => r.throughputTrend({ now }),
    'metrics history (all time)': (r) => r.metricsHistory({ now }),
  };
  const scan = new ScanSource(logs);
  const whole = new WholeFileSource(paths);
  for (const [name, fn] of helpers) {
    const sq = measure(5 + o.runs, () => viaReader[name]!(reader));
    const sc = measure(o.runs, () => fn(scan));
    const wf = measure(o.runs, () => fn(whole));
    add({ area: 'reads', case: `${name}: sqlite (catch-up included)`, value: sq.median, unit: 'ms', spread: sq.spread,
      baseline: 'scan', ratio: sc.median / sq.median, goal: '< 50 ms and >= 20x scan', met: sq.median < 50 && sc.median / sq.median >= 20 });
    add({ area: 'reads', case: `${name}: scan`, value: sc.median, unit: 'ms', spread: sc.spread });
    add({ area: 'reads', case: `${name}: whole-file parse (what dashboards do today)`, value: wf.median, unit: 'ms', spread: wf.spread,
      baseline: 'sqlite', ratio: wf.median / sq.median, note: 'ratio = how many times slower than sqlite' });
  }
  reader.close();
}

// ---------------------------------------------------------------- lookups: timeline, issue events, and what their index costs
if (want('lookups')) {
  log('lookups');
  if (!existsSync(dbPath)) throw new Error('lookups need the import section');
  const now = END;
  const reader: Reader = createReader({ dir: logs, db: dbPath, source: 'sqlite' });
  const issue = 200;
  const cases: [string, (r: Reader) => unknown, (s: EventSource) => unknown][] = [
    ['timeline (24 h)', (r) => r.timeline({ now }), (s) => timeline(s, { now })],
    [`issue events (issue ${issue}, all time)`, (r) => r.issueEvents({ issue, now }), (s) => issueEvents(s, { issue, now })],
  ];
  const scan = new ScanSource(logs);
  const whole = new WholeFileSource(paths);
  for (const [name, viaReader, fn] of cases) {
    const sq = measure(5 + o.runs, () => viaReader(reader));
    const sc = measure(o.runs, () => fn(scan));
    const wf = measure(o.runs, () => fn(whole));
    add({ area: 'lookups', case: `${name}: sqlite (catch-up included)`, value: sq.median, unit: 'ms', spread: sq.spread,
      baseline: 'scan', ratio: sc.median / sq.median, goal: '< 50 ms and >= 20x scan', met: sq.median < 50 && sc.median / sq.median >= 20 });
    add({ area: 'lookups', case: `${name}: scan`, value: sc.median, unit: 'ms', spread: sc.spread });
    add({ area: 'lookups', case: `${name}: whole-file parse (what dashboards do today)`, value: wf.median, unit: 'ms', spread: wf.spread,
      baseline: 'sqlite', ratio: wf.median / sq.median, note: 'ratio = how many times slower than sqlite' });
  }
  reader.close();
}

// ---------------------------------------------------------------- CLI start
if (want('start')) {
  // A 500k-event log whatever --events says: the goals of issues #24 and #26 are stated for it.
  const startLogs = join(o.workdir, 'logs-500000');
  if (!existsSync(join(startLogs, 'events.jsonl'))) {
    log(`generating 500000 lines into ${startLogs}`);
    generateLog({ dir: startLogs, lines: 500_000, linesPerFile: Math.ceil(500_000 / 3), seed: 1, endEpoch: END });
  }
  const startDb = join(o.workdir, 'start-mirror.db');
  if (!existsSync(startDb)) {
    log('start: importing the 500k-event log');
    const s = openStore(startDb);
    importAll(s, startLogs);
    s.close();
  }
  const dora = ['--dir', startLogs, '--db', startDb, '--json', 'metrics', 'dora', '--source', 'sqlite', '--now', String(END)];
  const bin = join(ROOT, 'bin/jsonl-mirror');
  // The code cache of these runs, apart from the user's: the warm-up runs write it.
  const cached = { ...process.env, XDG_CACHE_HOME: join(o.workdir, 'cache') };
  const cases: [string, string[], NodeJS.ProcessEnv][] = [
    ['node -e 0', ['-e', '0'], cached],
    ['--version', [bin, '--version'], cached],
    ['metrics dora --json', [bin, ...dora], cached],
    ['metrics timeline --json', [bin, ...dora.map((a) => (a === 'dora' ? 'timeline' : a))], cached],
    ['metrics dora --json, no code cache', [bin, ...dora], { ...cached, JSONL_MIRROR_NO_CODE_CACHE: '1' }],
    ['metrics dora --json, ES modules', [CLI, ...dora], cached],
  ];
  // Interleaved, so that a busy moment of the machine falls on every case alike: the ratios are what the goals speak of.
  const times = cases.map((): number[] => []);
  for (let i = 0; i < 5 + 3 * o.runs; i++) {
    cases.forEach(([name, args, env], k) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`start: ${name}: ${r.stderr}`);
      if (i >= 5) times[k]!.push(performance.now() - t);
    });
  }
  const [bare, version, doraRun, timelineRun, uncached, modules] = times.map(summarize) as [Measure, Measure, Measure, Measure, Measure, Measure];
  const vs = (m: Measure, base: Measure, limit: number, baseline: string, goal: string) =>
    ({ baseline, ratio: m.median / base.median, goal, met: m.median / base.median <= limit });
  add({ area: 'start', case: 'node -e 0 (baseline)', value: bare.median, unit: 'ms', spread: bare.spread });
  add({ area: 'start', case: 'jsonl-mirror --version', value: version.median, unit: 'ms', spread: version.spread, ...vs(version, bare, 1.3, 'node -e 0', '<= 1.3x node -e 0') });
  add({ area: 'start', case: 'metrics dora --json from SQLite (500k events)', value: doraRun.median, unit: 'ms', spread: doraRun.spread,
    ...vs(doraRun, bare, 1.6, 'node -e 0', '<= 1.6x node -e 0') });
  add({ area: 'start', case: 'metrics timeline --json from SQLite (500k events)', value: timelineRun.median, unit: 'ms', spread: timelineRun.spread,
    ...vs(timelineRun, doraRun, 1.5, 'metrics dora --json', '<= 1.5x metrics dora --json') });
  // What the bundle and its code cache each save: the same command without the cache, and as ES modules (dist/src/cli/main.js).
  add({ area: 'start', case: 'metrics dora --json, bundled, no code cache', value: uncached.median, unit: 'ms', spread: uncached.spread,
    baseline: 'node -e 0', ratio: uncached.median / bare.median, note: `the cache saves ${fmt(uncached.median - doraRun.median)} ms` });
  add({ area: 'start', case: 'metrics dora --json, ES modules (not bundled)', value: modules.median, unit: 'ms', spread: modules.spread,
    baseline: 'node -e 0', ratio: modules.median / bare.median, note: `the bundle and its cache save ${fmt(modules.median - doraRun.median)} ms` });
}

// ---------------------------------------------------------------- query output
if (want('query')) {
  log('query');
  if (!existsSync(dbPath)) {
    const s = openStore(dbPath);
    importAll(s, logs);
    s.close();
  }
  /** One CLI run with stdout into /dev/null: wall time and the child's own peak RSS (printed by a preload at exit). */
  const run = (args: string[]): { ms: number; rssMb: number } => {
    const preload = "data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss '+process.resourceUsage().maxRSS+'\\n'))";
    const t = performance.now();
    const r = spawnSync(process.execPath, ['--import', preload, CLI, '--dir', logs, '--db', dbPath, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1e7,
    });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`query ${args.join(' ')}: ${r.stderr}`);
    return { ms, rssMb: Number(/maxrss (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN) / 1024 };
  };
  const n = 50_000;
  const sql = `SELECT * FROM events LIMIT ${n}`;
  // Baseline: the same rows fetched and serialised in one process, no CLI: what the output itself costs above that.
  const db = new Database(dbPath, { readonly: true });
  const floor = measure(o.runs, () => JSON.stringify(db.prepare(sql).all()));
  db.close();
  add({ area: 'query', case: `${fmt(n)} rows fetched + JSON.stringify in-process (baseline)`, value: floor.median, unit: 'ms', spread: floor.spread });
  for (const flag of ['--json', '--nl', '--csv', '(table)']) {
    const m = measure(o.runs, () => run(['query', sql, ...(flag === '(table)' ? [] : [flag])]));
    add({ area: 'query', case: `query ${flag}, ${fmt(n)} rows of events`, value: m.median, unit: 'ms', spread: m.spread,
      baseline: 'in-process', ratio: m.median / floor.median, goal: '< 2000 ms', met: m.median < 2000 });
  }
  const many = (k: number) => `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ${k}) SELECT x, printf('%0200d', x) AS pad FROM c`;
  const small = run(['query', many(50_000), '--nl']);
  const big = run(['query', many(1_000_000), '--nl']);
  add({ area: 'query', case: 'peak RSS, --nl of 50,000 generated 200-byte rows', value: small.rssMb, unit: 'MB' });
  add({ area: 'query', case: 'peak RSS, --nl of 1,000,000 generated 200-byte rows', value: big.rssMb, unit: 'MB',
    baseline: '50,000 rows', ratio: big.rssMb / small.rssMb, goal: 'flat: < 1.5x', met: big.rssMb / small.rssMb < 1.5,
    note: `${fmt(big.ms)} ms` });
}

// ---------------------------------------------------------------- scan throughput
if (want('scan')) {
  log('scan throughput');
  const scan = new ScanSource(logs);
  const sc = measure(o.runs, () => scan.events({ streams: ['events'], types: ['stage.failed'] }));
  const bare = measure(o.runs, () => bareParseLoop(paths));
  const ours = logBytes / 1e6 / (sc.median / 1000);
  const lim = logBytes / 1e6 / (bare.median / 1000);
  add({ area: 'scan', case: 'bare read + split + JSON.parse loop', value: lim, unit: 'MB/s', spread: bare.spread });
  add({ area: 'scan', case: 'jsonl-mirror scan (byte offsets, UTF-8 check, rejects)', value: ours, unit: 'MB/s', spread: sc.spread,
    baseline: 'bare loop', ratio: ours / lim, goal: '>= 150 MB/s', met: ours >= 150 });
  const nd = await (async () => {
    const times: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t = performance.now();
      for (const p of paths) {
        await new Promise<void>((res) => {
          createReadStream(p).pipe(ndjson.parse({ strict: false })).on('data', () => {}).on('end', res);
        });
      }
      times.push(performance.now() - t);
    }
    return summarize(times);
  })();
  const ndRate = logBytes / 1e6 / (nd.median / 1000);
  add({ area: 'scan', case: 'ndjson.parse stream (no offsets, drops bad lines)', value: ndRate, unit: 'MB/s', spread: nd.spread,
    baseline: 'jsonl-mirror scan', ratio: ndRate / ours });
}

// ---------------------------------------------------------------- tail latency
if (want('tail')) {
  for (const perSecond of [100, 5000]) {
    log(`tail latency at ${perSecond}/s`);
    const tdir = join(o.workdir, 'tail');
    rmSync(tdir, { recursive: true, force: true });
    mkdirSync(tdir);
    writeFileSync(join(tdir, 'events.jsonl'), '');
    const tailer = createTailer({ dir: tdir, onError: () => {} });
    await tailer.start();
    const lat: number[] = [];
    tailer.subscribe((b) => {
      const now = performance.timeOrigin + performance.now();
      for (const e of b.events) lat.push(now - (e.sent as number));
    });
    const seconds = 4;
    const appender = spawn(process.execPath, ['-e', `
      const fs = require('fs'); const { performance } = require('perf_hooks');
      const fd = fs.openSync(${JSON.stringify(join(tdir, 'events.jsonl'))}, 'a');
      const per = ${perSecond}; const total = per * ${seconds}; let sent = 0; const t0 = performance.now();
      (function tick() {
        const due = Math.min(total, Math.floor((performance.now() - t0) / 1000 * per));
        let chunk = '';
        while (sent < due) chunk += JSON.stringify({ type: 'lat', i: sent++, sent: performance.timeOrigin + performance.now() }) + '\\n';
        if (chunk) fs.writeSync(fd, chunk);
        if (sent < total) setTimeout(tick, 1); else fs.closeSync(fd);
      })();`]);
    await new Promise((r) => appender.on('exit', r));
    const deadline = Date.now() + 10_000;
    while (lat.length < perSecond * seconds && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await tailer.stop();
    const sorted = [...lat].sort((a, b) => a - b);
    add({ area: 'tail', case: `append -> queryable, ${perSecond}/s: median`, value: percentile(sorted, 50), unit: 'ms', goal: '< 20 ms',
      met: percentile(sorted, 50) < 20, note: `${lat.length} of ${perSecond * seconds} events seen` });
    add({ area: 'tail', case: `append -> queryable, ${perSecond}/s: p99`, value: percentile(sorted, 99), unit: 'ms', goal: '< 200 ms',
      met: percentile(sorted, 99) < 200 });
  }
}

// ---------------------------------------------------------------- idle CPU
if (want('idle')) {
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  /** A folder of `n` quiet streams, imported. */
  const quiet = (n: number): string => {
    const idir = join(o.workdir, `idle-${n}`);
    rmSync(idir, { recursive: true, force: true });
    mkdirSync(idir);
    for (let i = 0; i < n; i++) writeFileSync(join(idir, `s${i}.jsonl`), '{"type":"x"}\n{"type":"y"}\n');
    const s = openStore(join(idir, 'mirror.db'));
    importAll(s, idir);
    s.close();
    return idir;
  };
  for (const n of [1, 2000]) {
    log(`idle CPU of tail over ${n} quiet files (10 s)`);
    const idir = quiet(n);
    const p = spawn(process.execPath, [CLI, '--dir', idir, 'tail'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 4000));
    const ticks = () => {
      const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
    };
    const t0 = ticks();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const cpu = (((ticks() - t0) / hz) * 1000) / (performance.now() - w0) * 100;
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
    add({ area: 'tail', case: `idle CPU, ${n.toLocaleString('en-US')} quiet file${n === 1 ? '' : 's'} (watcher + safety poll)`, value: cpu, unit: '% of a core',
      goal: '< 1%', met: cpu < 1 });
  }
  log('re-import of an unchanged folder of 2,000 streams');
  const idir = join(o.workdir, 'idle-2000');
  const again = measure(o.runs, () => {
    execFileSync(process.execPath, [CLI, '--dir', idir, 'import', '--no-progress'], { stdio: 'ignore' });
  });
  const start = measure(o.runs, () => {
    execFileSync(process.execPath, [CLI, '--version'], { stdio: 'ignore' });
  });
  add({ area: 'import', case: 'import of an unchanged folder, 2,000 streams (process included)', value: again.median, unit: 'ms', spread: again.spread,
    baseline: 'jsonl-mirror --version', ratio: again.median / start.median, goal: '< 1,000 ms', met: again.median < 1000 });
}

// ---------------------------------------------------------------- peak RSS
if (want('rss') && o.rssGb > 0) {
  const big = join(o.workdir, `big-${o.rssGb}gb`);
  const targetBytes = o.rssGb * 1024 ** 3;
  if (!existsSync(join(big, 'events.jsonl'))) {
    log(`generating a ${o.rssGb} GB log`);
    rmSync(big, { recursive: true, force: true });
    generateLog({ dir: big, lines: Math.ceil(targetBytes / 130), seed: 9, endEpoch: END });
  }
  const bigBytes = statSync(join(big, 'events.jsonl')).size;
  const bigDb = join(o.workdir, 'big.db');
  freshDb(bigDb);
  log(`import of ${fmt(bigBytes / 1e9, 2)} GB for peak RSS`);
  const script = `import(${JSON.stringify(join(ROOT, 'dist/src/index.js'))}).then((m) => {
    const s = m.openStore(${JSON.stringify(bigDb)}); const t = Date.now(); const r = m.importAll(s, ${JSON.stringify(big)}, { parseWorker: ${o.parseWorker} }); s.close();
    console.log(JSON.stringify({ rows: r.rows, ms: Date.now() - t, maxRssKb: process.resourceUsage().maxRSS }));
  });`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1e6 })) as { rows: number; ms: number; maxRssKb: number };
  const mb = out.maxRssKb / 1024;
  add({ area: 'import', case: `peak RSS importing ${fmt(bigBytes / 1e9, 2)} GB`, value: mb, unit: 'MB', goal: '< 200 MB', met: mb < 200,
    note: `${fmt(rate(out.rows, out.ms))} rows/s` });
  freshDb(bigDb);
}

// ---------------------------------------------------------------- serve
/**
 * `serve` in its own process over the mirror `mirror` names (extra global flags: none for DIR/mirror.db),
 * whose folder `dir` this appends to: 304s, full bodies while nothing changes, and full bodies while
 * 100 events/s arrive (the server's own tailer mirrors them), each against the helper called in-process.
 */
async function serveLoad(area: string, label: string, dir: string, mirror: string[], helper: () => unknown): Promise<void> {
  const path = `/api/metrics/history?now=${END}`;
  const server = spawn(process.execPath, [CLI, '--dir', dir, ...mirror, '--json', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const base = await new Promise<string>((res, rej) => {
    let out = '';
    server.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('\n')) res((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
    });
    server.on('exit', (code) => rej(new Error(`serve exited with ${code}`)));
  });
  const first = await fetch(base + path);
  const etag = first.headers.get('etag')!;
  await first.arrayBuffer();
  const seconds = 10;
  const cannon = (headers: Record<string, string>) => autocannon({ url: base + path, connections: 50, duration: seconds, headers });
  const inproc = measure(5 + o.runs, helper);
  const helperRate = 1000 / inproc.median;
  add({ area, case: `${label}metrics history, helper called in-process${mirror.length ? '' : ' (catch-up included)'}`, value: helperRate, unit: 'calls/s', spread: inproc.spread,
    note: `${fmt(inproc.median)} ms per call` });
  const report = (name: string, r: autocannon.Result, goal: string, rateGoal: number, p99Goal: number | undefined, status: string) => {
    const rps = r.requests.average;
    add({ area, case: `${label}${name}: requests`, value: rps, unit: 'req/s', baseline: 'in-process helper', ratio: rps / helperRate, goal,
      met: rps >= rateGoal && (p99Goal === undefined || r.latency.p99 < p99Goal), note: `${status}, ${r.errors} errors` });
    add({ area, case: `${label}${name}: p99 latency`, value: r.latency.p99, unit: 'ms', note: `median ${r.latency.p50} ms` });
  };
  log(`${area}: 50 clients polling with If-None-Match`);
  const cond = await cannon({ 'if-none-match': etag });
  report('GET /api/metrics/history x 50 clients, If-None-Match (304)', cond, '>= 5,000 req/s, p99 < 20 ms', 5000, 20, `${cond['3xx']} x 304`);
  log(`${area}: 50 clients polling without If-None-Match, nothing changing`);
  const idle = await cannon({});
  report('same without If-None-Match, idle', idle, '>= 2,000 req/s', 2000, undefined, `${idle['2xx']} x 200`);
  log(`${area}: the same while 100 events/s arrive`);
  const live = join(dir, 'events.jsonl');
  const appender = spawn(process.execPath, ['-e', `
    const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(live)}, 'a'); let i = 0;
    const line = () => JSON.stringify({ ts_epoch: ${END - 60}, type: 'pipeline.completed', issue: 1 + (i++ % 50), result: 'success', duration_s: 100 }) + '\\n';
    const t = setInterval(() => fs.writeSync(fd, line()), 10);
    setTimeout(() => { clearInterval(t); fs.closeSync(fd); }, ${(seconds + 1) * 1000});`]);
  const busy = await cannon({});
  await new Promise((r) => appender.on('exit', r));
  report('same while 100 events/s arrive', busy, '>= 200 req/s, p99 < 100 ms', 200, 100, `${busy['2xx']} x 200`);
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
}

if (want('serve')) {
  // A copy of the log with its own mirror: the section appends to it.
  const sdir = join(o.workdir, 'serve');
  rmSync(sdir, { recursive: true, force: true });
  cpSync(logs, sdir, { recursive: true });
  log(`serve: importing a copy of the ${o.events}-line log`);
  const imported = openStore(join(sdir, 'mirror.db'));
  importAll(imported, sdir);
  imported.close();
  const reader = createReader({ dir: sdir, source: 'sqlite' });
  await serveLoad('serve', '', sdir, [], () => reader.metricsHistory({ now: END }));
  reader.close();
  rmSync(sdir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- pg: the fleet mirror on PostgreSQL, next to SQLite
if (want('pg')) {
  const server = o.pgUrl ? undefined : await startPg();
  try {
    const url = (o.pgUrl as string | undefined) ?? (await server!.createDb('bench'));
    // Every table of the schema, so that a migration added later is dropped too; only ever in a database that was empty.
    const tables = (pg: SyncPg) => pg.query<{ t: string }>('SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema()').rows.map((r) => r.t);
    const check = new SyncPg(url);
    const before = tables(check);
    check.close();
    if (before.length > 0) throw new Error(`pg section: ${url} is not empty (${before.join(', ')}); pass an empty database to --pg-url`);
    const reset = () => {
      const pg = new SyncPg(url);
      const mine = tables(pg);
      if (mine.length > 0) pg.query(`DROP TABLE IF EXISTS ${mine.join(', ')} CASCADE`);
      pg.close();
    };
    log('pg: import into PostgreSQL and into SQLite, alternately');
    let pgRows = 0;
    let liteRows = 0;
    const liteDb = join(o.workdir, 'pg-side-sqlite.db');
    const pgImp: number[] = [];
    const liteImp: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      reset();
      let t = performance.now();
      const s = openPgStore(url, { hostId: 'bench' });
      pgRows = importAll(s, logs, { legacy: false }).rows;
      s.close();
      pgImp.push(performance.now() - t);
      freshDb(liteDb);
      t = performance.now();
      const l = openStore(liteDb);
      liteRows = importAll(l, logs, { legacy: false }).rows;
      l.close();
      liteImp.push(performance.now() - t);
    }
    const pgM = summarize(pgImp);
    const liteM = summarize(liteImp);
    add({ area: 'pg', case: 'import into SQLite (same log)', value: rate(liteRows, liteM.median), unit: 'rows/s', spread: liteM.spread });
    add({ area: 'pg', case: 'import into PostgreSQL', value: rate(pgRows, pgM.median), unit: 'rows/s', spread: pgM.spread,
      baseline: 'SQLite', ratio: liteM.median / pgM.median, goal: '>= 50,000 rows/s', met: rate(pgRows, pgM.median) >= 50_000 });
    const helpers = readerHelpers(END);
    const pg = new SyncPg(url);
    pg.query('ANALYZE');
    pg.close();
    const fleet = createReader({ dir: logs, db: url });
    const lite = createReader({ dir: logs, db: liteDb, source: 'sqlite' });
    for (const [name, fn] of helpers) {
      assertFound(name, fn(fleet));
      const p = measure(3 + o.runs, () => fn(fleet));
      const l = measure(3 + o.runs, () => fn(lite));
      add({ area: 'pg', case: `${name}: PostgreSQL, all hosts`, value: p.median, unit: 'ms', spread: p.spread, baseline: 'SQLite',
        ratio: l.median / p.median, goal: '< 200 ms', met: p.median < 200, note: `SQLite ${fmt(l.median)} ms` });
    }
    fleet.close();
    lite.close();

    // serve over the fleet mirror, as the serve section over SQLite: a copy of the log, its server's tailer feeding PostgreSQL.
    reset();
    const pdir = join(o.workdir, 'serve-pg');
    rmSync(pdir, { recursive: true, force: true });
    cpSync(logs, pdir, { recursive: true });
    log('pg: importing a copy of the log for serve');
    const fed = openPgStore(url, { hostId: 'bench' });
    importAll(fed, pdir);
    fed.close();
    const served = createReader({ dir: pdir, db: url });
    await serveLoad('pg', 'serve over PostgreSQL: ', pdir, ['--db', url, '--host-id', 'bench'], () => served.metricsHistory({ now: END }));
    served.close();
    rmSync(pdir, { recursive: true, force: true });
  } finally {
    server?.stop();
  }
}

// ---------------------------------------------------------------- bun: the import and the reads under Bun beside Node
if (want('bun')) {
  log('bun: the same import and reads under Node (in process) and under Bun (the bun devDependency)');
  const bunBin = join(ROOT, 'node_modules/.bin/bun');
  if (!existsSync(bunBin)) throw new Error(`bun section: no Bun at ${bunBin}; it is a devDependency, run \`npm ci\``);
  const node = runtimeLeg(logs, join(o.workdir, 'mirror-node.db'), o.runs, END);
  const env = { ...process.env };
  delete env.JSONL_MIRROR_SQLITE_MODULE;
  const r = spawnSync(bunBin, [join(ROOT, 'dist/bench/bun-leg.js'), logs, join(o.workdir, 'mirror-bun.db'), String(o.runs), String(END)],
    { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`bun section: Bun failed (${r.status}): ${r.stderr}`);
  const bun = JSON.parse(r.stdout) as RuntimeLeg;
  if (bun.import.rows !== node.import.rows) throw new Error(`bun section: Bun imported ${bun.import.rows} rows, Node ${node.import.rows}`);
  const nodeRate = rate(node.import.rows, node.import.median);
  const bunRate = rate(bun.import.rows, bun.import.median);
  add({ area: 'bun', case: `import: ${node.runtime} (better-sqlite3)`, value: nodeRate, unit: 'rows/s', spread: node.import.spread });
  add({ area: 'bun', case: `import: ${bun.runtime} (bun:sqlite)`, value: bunRate, unit: 'rows/s', spread: bun.import.spread,
    baseline: 'Node', ratio: bunRate / nodeRate, note: `${bun.import.rows} rows` });
  for (const [name, n] of Object.entries(node.reads)) {
    const b = bun.reads[name]!;
    add({ area: 'bun', case: `${name}: Node`, value: n.median, unit: 'ms', spread: n.spread });
    add({ area: 'bun', case: `${name}: Bun`, value: b.median, unit: 'ms', spread: b.spread, baseline: 'Node', ratio: n.median / b.median,
      note: 'ratio = how many times faster than Node' });
  }
  for (const [name, w] of Object.entries(bun.wholeFile)) {
    const viaReader = bun.reads[name]!;
    add({ area: 'bun', case: `${name}: Bun, whole-file parse (the dashboard today)`, value: w.median, unit: 'ms', spread: w.spread,
      baseline: 'Bun reader', ratio: w.median / viaReader.median, note: 'ratio = how many times slower than the reader' });
  }
}

// ---------------------------------------------------------------- scaling: every helper on 1M and 10M events over 365 days and on 3 years at the 1M log's rate
let scaled: ScalingResult | undefined;
if (want('scaling')) {
  const sizes = String(o.scalingSizes).split(',').map(parseCount);
  if (sizes.length !== 2) throw new Error(`--scaling-sizes: expected two sizes, base and big (such as 1M,10M), got ${o.scalingSizes}`);
  const engines = String(o.scalingEngines).split(',') as Engine[];
  const bad = engines.filter((e) => e !== 'sqlite' && e !== 'pg');
  if (bad.length > 0 || engines.length === 0) throw new Error(`--scaling-engines: sqlite, pg or both, got ${o.scalingEngines}`);
  scaled = await scaling({ workdir: o.workdir, root: ROOT, end: END, base: sizes[0]!, big: sizes[1]!, engines, pgUrl: o.pgUrl, parseWorker: o.parseWorker, log });
  scalingRows(scaled).forEach(add);
  log(`scaling: ${fmt(scaled.ms / 1000)} s`);
}

// ---------------------------------------------------------------- report
const machine = { node: process.version, cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, memGb: Math.round(totalmem() / 1024 ** 3),
  events: o.events, logMb: Math.round(logBytes / 1e6), date: new Date().toISOString() };
if (o.json) {
  process.stdout.write(`${JSON.stringify({ machine, rows, ...(scaled ? { scaling: scaled } : {}) })}\n`);
} else {
  const head = ['area', 'case', 'value', 'unit', 'spread', 'vs baseline', 'goal', 'met'];
  const cells = rows.map((r) => [r.area, r.case, fmt(r.value), r.unit, r.spread === undefined ? '' : `${Math.round(r.spread * 100)}%`,
    r.ratio === undefined ? (r.note ?? '') : `${fmt(r.ratio, 2)}x ${r.baseline}${r.note ? ` (${r.note})` : ''}`,
    r.goal ?? '', r.met === undefined ? '' : r.met ? 'yes' : 'NO']);
  // Full width: the results are pasted into BENCHMARKS.md, not read on a terminal.
  const print = (t: { head: string[]; cells: string[][] }) => process.stdout.write(`${o.markdown ? markdownTable(t.head, t.cells) : table(t.head, t.cells, Infinity)}\n`);
  print({ head, cells });
  if (scaled) {
    process.stdout.write(`\nscaling: each helper through the reader, median of ${scaled.runs} calls after a warm one, the logs interleaved; goals: ${scaled.goals.join('; ')}\n\n`);
    print(scalingTable(scaled));
    process.stdout.write('\n');
    print(scalingLogsTable(scaled));
  }
  const logLine = scalingOnly ? `logs: ${scaled!.logs.map((l) => `${l.label} = ${l.lines} lines over ${l.days} days, ${fmt(l.bytes / 1e6, 0)} MB, now ${l.now ?? '-'}`).join('; ')}`
    : `log: ${machine.events} lines, ${machine.logMb} MB`;
  const line = `machine: ${machine.cpus}, ${machine.memGb} GiB, Node ${machine.node}; ${logLine}; ${machine.date}`;
  process.stdout.write(`${o.markdown ? `\n${line}` : line}\n`);
}
