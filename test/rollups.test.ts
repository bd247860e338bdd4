import { appendFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPg, type PgServer } from '../fixtures/pg-server.js';
import { importAll } from '../src/import/import.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { DEFAULT_CONFIG, mergeConfig } from '../src/metrics/config.js';
import { costBreakdown } from '../src/metrics/costs.js';
import { doraGrades, tallyEvents } from '../src/metrics/dora.js';
import { metricsHistory } from '../src/metrics/history.js';
import { ScanSource } from '../src/read/scan-source.js';
import type { PriceTable } from '../src/model/cost.js';
import type { GroupKey, GroupQuery, GroupRow, PairQuery } from '../src/model/query.js';
import { DATED_EPOCHS, typeMatches } from '../src/model/rules.js';
import { pruneHistory } from '../src/ops/prune.js';
import { verifyMirror } from '../src/ops/verify.js';
import { groupEvents } from '../src/read/source.js';
import { MirrorSource } from '../src/read/mirror-source.js';
import type { Store } from '../src/store/api.js';
import { openStore } from '../src/store/open.js';
import { openPgStore, type PgStore } from '../src/store/pg/open.js';
import type { DayTotal, DoraPair, IssueCost } from '../src/store/rows.js';
import { cli, tmp, withPgClient, withSql } from './helpers.js';
import { undatedLog, writeLog } from './metrics-helpers.js';

const D = 86_400;
/** A Thursday midnight: the windows below start before it, inside it and after it. */
const T0 = 1_767_225_600;
const TYPES = ['pipeline.started', 'pipeline.completed', 'stage.completed', 'stage.failed', 'stage', 'stage.failed.retry', 'pipeline.cost', 'other'];

const eventArb = fc.record(
  {
    type: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
    // Six days of seconds, some on a day's first or last second, some fractional, some with no usable time (epoch 0),
    // a few at the edges of the days a date can name and beyond them (no date either).
    at: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -D, max: 5 * D }).map((s) => T0 + s) },
      { weight: 3, arbitrary: fc.integer({ min: -1, max: 5 }).chain((d) => fc.constantFrom(T0 + d * D, T0 + d * D - 1, T0 + d * D + 0.25)) },
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(-1e300, -1e13, DATED_EPOCHS[0] - 1, DATED_EPOCHS[0], DATED_EPOCHS[1], DATED_EPOCHS[1] + 0.5, DATED_EPOCHS[1] + 1, 1.7e15, 1e300) },
    ),
    stage: fc.option(fc.constantFrom('build', 'test', '', '3:x'), { nil: undefined }),
    model: fc.option(fc.constantFrom('opus', 'haiku', ''), { nil: undefined }),
    result: fc.option(fc.constantFrom('success', 'failure'), { nil: undefined }),
    duration_s: fc.option(fc.oneof(fc.integer({ min: 0, max: 900 }), fc.constant(0.1), fc.constant(-3)), { nil: undefined }),
    issue: fc.option(fc.constantFrom(0, 7, 12), { nil: undefined }),
    // A cost of its own, none, or one to derive from tokens; some token counts negative (priced from the row, maybe to <= 0).
    cost_usd: fc.option(fc.constantFrom(0, -1, 0.5, 2.25), { nil: undefined }),
    input_tokens: fc.option(fc.constantFrom(0, 1000, 250_000, -400_000), { nil: undefined }),
    output_tokens: fc.option(fc.constantFrom(0, 3000, -100), { nil: undefined }),
  },
  { requiredKeys: ['at'] },
);

type Op =
  | { kind: 'events'; lines: string[] }
  | { kind: 'rotate' }
  | { kind: 'dropOldest' }
  | { kind: 'ingest' }
  | { kind: 'import' }
  | { kind: 'prune' }
  | { kind: 'costs'; entries: object[] };

const line = ({ at, ...e }: fc.RecordValue<typeof eventArb>): string => JSON.stringify(at === 0 ? e : { ts_epoch: at, ...e });

/** Histories of these events: appends of a batch each, among rotations, deletions, ingests, imports and prunes. */
const opsOf = (events: typeof eventArb): fc.Arbitrary<Op> => fc.oneof(
  { weight: 8, arbitrary: fc.array(events, { minLength: 1, maxLength: 30 }).map((es) => ({ kind: 'events' as const, lines: es.map(line) })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'rotate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'dropOldest' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'ingest' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'import' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'prune' as const }) },
  // costs.json grows as Shipwright rewrites it: its entries are the costs stream's events.
  {
    weight: 1,
    arbitrary: fc.array(fc.record({ ts_epoch: fc.integer({ min: -D, max: 5 * D }).map((s) => T0 + s), cost_usd: fc.constantFrom(0.5, 2), model: fc.constantFrom('opus', 'haiku'), stage: fc.constantFrom('build', 'plan') }), { minLength: 1, maxLength: 5 })
      .map((entries) => ({ kind: 'costs' as const, entries })),
  },
);
const opArb = opsOf(eventArb);

/** Appends, rotations by rename, deletion of the oldest rotated file, ingests, imports and prunes, in the order drawn; `after` sees each op done. */
function play(dir: string, store: Store, ops: Op[], after?: (op: Op) => void): void {
  const live = join(dir, 'events.jsonl');
  writeFileSync(live, '');
  let rotated = 0;
  const costs: object[] = [];
  for (const op of ops) {
    if (op.kind === 'costs') {
      costs.push(...op.entries);
      writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: costs }));
    }
    if (op.kind === 'events') appendFileSync(live, op.lines.map((l) => `${l}\n`).join(''));
    if (op.kind === 'rotate') {
      for (let i = rotated; i >= 1; i--) renameSync(`${live}.${i}`, `${live}.${i + 1}`);
      renameSync(live, `${live}.1`);
      writeFileSync(live, '');
      rotated++;
    }
    if (op.kind === 'dropOldest' && rotated > 0 && existsSync(`${live}.${rotated}`)) rmSync(`${live}.${rotated--}`);
    if (op.kind === 'ingest') ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
    if (op.kind === 'import') importAll(store, dir);
    if (op.kind === 'prune') pruneHistory(store, { dir });
    after?.(op);
  }
  importAll(store, dir);
}

const near = (x: number | undefined) => (x === undefined ? x : Math.round(x * 1e6) / 1e6);
const cells = (list: DayTotal[]) =>
  list.map((c) => ({ ...c, duration_sum: near(c.duration_sum), usd_sum: near(c.usd_sum), tok_in: near(c.tok_in), tok_out: near(c.tok_out) })).map((c) => JSON.stringify(c)).sort();

const issueCells = (list: IssueCost[]) =>
  list.map((c) => ({ ...c, usd_sum: near(c.usd_sum), tok_in: near(c.tok_in), tok_out: near(c.tok_out) })).map((c) => JSON.stringify(c)).sort();
const pairs = (list: DoraPair[]) => list.map((p) => JSON.stringify(p)).sort();
const ROLLUPS = ['day_totals', 'all_totals', 'issue_costs', 'dora_pairs'];

/** The default prices, and a table that prices one model at nothing (its token-only events cost 0 and are skipped). */
const PRICES: PriceTable[] = [DEFAULT_CONFIG, { prices: { opus: { input: 0, output: 0 }, haiku: { input: 1, output: 2 } }, fallbackModel: 'haiku' }];

// Mostly around T0; a few beyond the days a date can name, on either side.
const bound = fc.option(fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: -2 * D, max: 7 * D }).chain((s) => fc.constantFrom(T0 + s, T0 + Math.round(s / D) * D)) },
  { weight: 1, arbitrary: fc.constantFrom(-1e14, DATED_EPOCHS[0] - D / 2, DATED_EPOCHS[1] + D / 2, 1e14) },
), { nil: undefined });
const groupArb = fc.record({
  types: fc.subarray(TYPES, { minLength: 1 }),
  since: bound,
  until: bound,
  upTo: bound,
  timed: fc.boolean(),
  by: fc.subarray(['stage', 'model', 'date', 'success', 'issue'] as GroupKey[], { minLength: 1 }),
  sum: fc.constantFrom(undefined, 'duration_s' as const, 'cost' as const),
  prices: fc.constantFrom(...PRICES),
  stats: fc.boolean(),
}).map((g) => ({ ...g, stats: g.stats && g.sum !== 'cost' }));

/** A group row as compared: the keys, the count, the sum and stats to the precision a sum in another order keeps. */
const rowsOf = (rows: GroupRow[]) => rows.map((r) => JSON.stringify([r.keys, r.count, near(r.sum), r.min, r.max, near(r.usd)])).sort();

/** Plays `ops`, then: the kept cells equal a recount, verify agrees, and every query and the feed's total equal the rows alone. */
function checkRollups(dir: string, store: Store, kind: 'sqlite' | 'postgres', ops: Op[], queries: fc.RecordValue<typeof groupArb>[]): void {
  play(dir, store, ops);
  expect(cells(store.dayTotalsKept())).toEqual(cells(store.dayTotalsFromRows()));
  // The inexact flag is sticky (it outlives the cell that set it): no recount has it.
  expect(cells(store.allTotalsKept().map(({ inexact: _, ...c }) => c as DayTotal))).toEqual(cells(store.allTotalsFromDays()));
  expect(issueCells(store.issueCostsKept())).toEqual(issueCells(store.issueCostsFromRows()));
  expect(pairs(store.pairsKept())).toEqual(pairs(store.pairsFromRows()));
  expect(verifyMirror(store, dir).problems.filter((p) => ROLLUPS.includes(p.path))).toEqual([]);
  const source = new MirrorSource(store, { kind });
  for (const g of queries) {
    const q: GroupQuery = { streams: ['events'], ...g };
    // events() reads the rows alone; groups() reads whole days from day_totals.
    expect(rowsOf(source.groups(q)), JSON.stringify(q)).toEqual(rowsOf(groupEvents(source.events(q), q)));
    const feed = { streams: ['events'], type: g.types[0], upTo: g.upTo, limit: 1, offset: 0 };
    const all = store.records({ streams: ['events'], upTo: g.upTo, fields: ['type'] });
    expect(source.feed(feed).total).toBe(all.filter((r) => typeMatches(r.type, feed.type)).length);
    expect(source.feed({ ...feed, type: undefined }).total).toBe(all.length);
    // DORA's samples of the window: as kept (SQLite), and as the rows paired in log order.
    checkWindow(hostOf(store, kind), { streams: ['events'], since: g.since ?? T0 - 2 * D, until: g.until, upTo: g.upTo });
  }
}

/** The store's own host's events (pairs are kept per host: a fleet's hosts together pair their rows). */
/** A log of `events` imported into the PostgreSQL mirror at `url` by hosts a and b; its folder. */
function fleetOf(url: string, events: object[]): string {
  const dir = tmp();
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  for (const host of ['a', 'b']) {
    const store = openPgStore(url, { hostId: host });
    try {
      importAll(store, dir);
    } finally {
      store.close();
    }
  }
  return dir;
}

const hostOf = (store: Store, kind: 'sqlite' | 'postgres') => new MirrorSource(store, { kind, host: kind === 'postgres' ? (store as PgStore).host : undefined });

/** A window's DORA samples as kept equal those of its events paired in log order. */
function checkWindow(source: MirrorSource, w: PairQuery): number {
  const kept = source.pairs(w);
  expect(kept, JSON.stringify(w)).toBeDefined();
  const fromRows = tallyEvents(source.events({ ...w, types: ['pipeline.started', 'pipeline.completed'] }));
  expect([kept!.leads, kept!.restores, near(kept!.leadSeconds), near(kept!.restoreSeconds)], JSON.stringify(w))
    .toEqual([fromRows.leads, fromRows.restores, near(fromRows.leadSeconds), near(fromRows.restoreSeconds)]);
  return kept!.leads + kept!.restores;
}

/** Plays `ops`, checking the kept pairs against a re-pairing after every op, then `windows` and verify. */
function checkPairs(dir: string, store: Store, kind: 'sqlite' | 'postgres', ops: Op[], windows: fc.RecordValue<typeof windowArb>[]): number {
  // After every op, not only at the end: the final import may rebuild every pair, which would hide a repair missed before it.
  play(dir, store, ops, () => expect(pairs(store.pairsKept())).toEqual(pairs(store.pairsFromRows())));
  expect(verifyMirror(store, dir).problems.filter((p) => p.path === 'dora_pairs')).toEqual([]);
  const source = hostOf(store, kind);
  return windows.reduce((n, win) => n + checkWindow(source, { streams: ['events'], ...win }), 0);
}

/**
 * Day T0 + D holds events at +100, +3600 and +7200.5, which the windows of
 * checkEndDay end on, just before, and after the last. The one at +1800 has
 * a negative token count: its cost comes from its row, whichever way the day is read.
 */
const END_DAY = T0 + D;
const endDayEvent = (ts: number, stage: string, duration_s: number, input_tokens = 1000) =>
  ({ ts_epoch: ts, type: 'stage.completed', stage, duration_s, model: 'opus', input_tokens, output_tokens: 2000 });
const END_DAY_EVENTS = [endDayEvent(T0 + 50, 'plan', 1), endDayEvent(END_DAY + 100, 'build', 2), endDayEvent(END_DAY + 1800, 'build', 3, -500),
  endDayEvent(END_DAY + 3600, 'build', 4), endDayEvent(END_DAY + 7200.5, 'test', 8)];

/** Grouped reads of END_DAY_EVENTS ending inside their last day equal the scan's, by stage, day and issue, as sums, stats and costs. */
function checkEndDay(source: MirrorSource, scan: ScanSource): void {
  const day = END_DAY;
  const ends = [{ until: day + 3600 }, { upTo: day + 3600 }, { upTo: day + 7200 }, { until: day + 7200.5 }, { upTo: day + 7200.5 }, { upTo: day + 9000 },
    { until: day + 3601, upTo: day + 3600 }, { until: day + 3600, upTo: day + 7200 }];
  for (const end of ends) {
    for (const by of [['stage'], ['date'], ['issue']] as GroupKey[][]) {
      for (const sum of ['duration_s', 'cost'] as const) {
        for (const since of [T0, undefined]) {
          const q: GroupQuery = { streams: ['events'], types: ['stage.completed'], since, ...end, by, sum, prices: DEFAULT_CONFIG, stats: sum !== 'cost' && since !== undefined };
          expect(rowsOf(source.groups(q)), JSON.stringify(q)).toEqual(rowsOf(groupEvents(scan.events(q), q)));
        }
      }
    }
  }
}

/**
 * A rotated file prune drops, holding metrics-helpers' undatedLog (events at
 * every edge of the dated days and far past them on both sides), and a live
 * one it keeps, with events far past them too: each side's cells are one
 * rollup day, which prune must recount from all of that side's epochs.
 */
function undatedRotatedLog(): string {
  const dir = writeLog(undatedLog(T0 + D), 'events.jsonl.1');
  const far = (sign: number) => ({ type: 'pipeline.cost', issue: 5, cost_usd: 2, model: 'opus', ts_epoch: sign * 2e13 });
  return writeLog([{ type: 'pipeline.completed', result: 'success', duration_s: 20, ts_epoch: -2e13 }, { type: 'stage.failed', stage: 'b', ts_epoch: 2e13 },
    far(-1), far(1), { type: 'pipeline.completed', result: 'success', duration_s: 50, ts_epoch: T0 + 60 }], 'events.jsonl', dir);
}

/** Prunes the rotated file of undatedRotatedLog(): the rollups still equal a recount, and every all-time answer the scan's. */
function checkPrunedUndated(store: Store, dir: string, kind: 'sqlite' | 'postgres'): void {
  const source = hostOf(store, kind);
  const now = { now: T0 + D };
  rmSync(join(dir, 'events.jsonl.1'));
  expect(pruneHistory(store, { dir }).rows).toBe(undatedLog(T0 + D).length);
  expect(verifyMirror(store, dir).problems).toEqual([]);
  const scan = new ScanSource(dir);
  expect(metricsHistory(source, now)).toEqual(metricsHistory(scan, now));
  expect(metricsHistory(source, now)).toMatchObject({ total_completed: 2, avg_duration_s: 35 });
}

/**
 * Runs `fn` with `store` patched so that after each statement it runs,
 * another connection mirrors one more line, `lineAt(n)` for the nth: a race
 * between a read's statements, made certain. Returns how many ran.
 */
function afterEachStatement(store: Store, dir: string, lineAt: (n: number) => string, fn: () => void): number {
  const late = openStore(join(dir, 'mirror.db'));
  const inner = store as unknown as { shape: (...a: unknown[]) => Record<'get' | 'all', (...p: unknown[]) => unknown> };
  const shape = inner.shape.bind(store);
  let statements = 0;
  inner.shape = (...a) => {
    const stmt = shape(...a);
    const run = (mode: 'get' | 'all') => (...p: unknown[]) => {
      const result = stmt[mode](...p);
      appendFileSync(join(dir, 'events.jsonl'), `${lineAt(statements++)}\n`);
      importAll(late, dir);
      return result;
    };
    return { get: run('get'), all: run('all') };
  };
  try {
    fn();
  } finally {
    inner.shape = shape;
    late.close();
  }
  return statements;
}

/** A mirror imported from `events` (objects, or lines as written), open for `fn`, closed after. */
function withImported(events: (object | string)[], fn: (store: Store, dir: string) => void): void {
  const dir = tmp();
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => `${typeof e === 'string' ? e : JSON.stringify(e)}\n`).join(''));
  const store = openStore(join(dir, 'mirror.db'));
  try {
    importAll(store, dir);
    fn(store, dir);
  } finally {
    store.close();
  }
}

describe('day_totals: the rollup the ingest keeps with the rows', () => {
  it('equals a recount from the rows after random appends, rotations, deletions, ingests, imports and prunes; windowed counts equal the rows', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.array(groupArb, { minLength: 1, maxLength: 12 }), (ops, queries) => {
        const dir = tmp();
        const store = openStore(join(dir, 'mirror.db'));
        try {
          checkRollups(dir, store, 'sqlite', ops, queries);
        } finally {
          store.close();
        }
      }),
      { numRuns: Number(process.env.ROLLUP_RUNS ?? 40) },
    );
  });

  it('events with no date (epoch 0, or beyond the days a date can name) are left out of a timed count with no start, from the rollups as from the rows', () => {
    const epochs = [0, -1e300, -1e13, DATED_EPOCHS[0] - 1, DATED_EPOCHS[0], T0, DATED_EPOCHS[1], DATED_EPOCHS[1] + 0.5, 1.7e15, 1e300];
    withImported(epochs.map((at) => `{"type":"stage.completed","stage":"build","duration_s":1,"ts_epoch":${at}}`), (store) => {
      const source = new MirrorSource(store, { kind: 'sqlite' });
      const base = { streams: ['events'], types: ['stage.completed'], by: ['stage'] };
      for (const q of [
        { ...base, timed: true, sum: 'duration_s' },
        { ...base, timed: true, upTo: T0 },
        { ...base, timed: true, by: ['date'] },
        // Windows reaching past those days, whose rollup cells hold each side as one day.
        ...[{}, { since: -1e14, upTo: T0 }, { upTo: -1e14 }, { since: 1e14 }, { since: DATED_EPOCHS[0] - D / 2, until: 2e13 }].map((w) => ({ ...base, ...w })),
      ] as GroupQuery[]) {
        expect(rowsOf(source.groups(q)), JSON.stringify(q)).toEqual(rowsOf(groupEvents(source.events(q), q)));
      }
      const [open] = source.groups({ streams: ['events'], types: ['stage.completed'], timed: true, by: ['stage'] });
      expect(open!.count).toBe(3);
      expect(source.groups({ streams: ['events'], types: ['stage.completed'], timed: true, by: ['date'] }).map((g) => g.keys[0]).sort())
        .toEqual(['-271821-04-20', '2026-01-01', '+275760-09-13'].sort());
    });
  });

  it('a cost over whole days reads day_totals, and event_rows only through the partial index of negative token counts and at the edges', () => {
    withImported([`{"type":"pipeline.cost","model":"opus","input_tokens":10,"ts_epoch":${T0 + 5}}`], (store) => {
      const q = { streams: ['events'], types: ['pipeline.cost'], since: T0 - 30 * D + 5, upTo: T0 + 5, by: ['model'], sum: 'cost', prices: DEFAULT_CONFIG };
      const plan = store.explain('groups', q as never).join(' | ');
      expect(plan).toMatch(/SEARCH day_totals USING PRIMARY KEY \(stream_id=\? AND type_id=\? AND day>\? AND day<\?\)/);
      expect(plan).toMatch(/SEARCH event_rows USING INDEX event_rows_odd_tokens \(stream_id=\? AND type_id=\? AND ts_epoch>\? AND ts_epoch<\?\)/);
      expect(plan).not.toMatch(/SCAN event_rows/);
    });
  });

  it('a window ending inside a day reads that day from its cell only when no row of the read lies after the window that day', () => {
    withImported(END_DAY_EVENTS, (store, dir) => checkEndDay(new MirrorSource(store, { kind: 'sqlite' }), new ScanSource(dir)));
  });

  it('a grouped read answers while another read of the same store is being iterated (an export, a query)', () => {
    withImported([1, 2, 3].map((n) => `{"type":"stage.completed","stage":"b","duration_s":${n},"ts_epoch":${T0 + D + n}}`), (store) => {
      const q: GroupQuery = { streams: ['events'], types: ['stage.completed'], since: T0 - D, upTo: T0 + D + 100, by: ['stage'], sum: 'duration_s' };
      const during: unknown[] = [];
      for (const _line of store.exportLines({ sort: 'time' })) during.push(store.groups(q));
      expect(during).toEqual([1, 2, 3].map(() => [['b', 3, 6]]));
    });
  });

  it('a grouped read decides how to read its last day in the statement that reads it: a row committed between its statements cannot enter the answer', () => {
    const line = (ts: number) => `{"type":"stage.completed","stage":"b","duration_s":1,"ts_epoch":${ts}}`;
    withImported([line(T0 + 10), line(T0 + D + 10)], (store, dir) => {
      const q: GroupQuery = { streams: ['events'], types: ['stage.completed'], since: T0, upTo: T0 + D + 100, by: ['stage'], sum: 'duration_s' };
      // After each statement the read runs, another connection mirrors an event of the same day stamped after the window's end.
      const statements = afterEachStatement(store, dir, (n) => line(T0 + D + 200 + n), () => {
        expect(store.groups(q)).toEqual([['b', 2, 2]]);
      });
      expect(statements).toBeGreaterThan(0);
    });
  });

  it('an all-time sum tests whether its cells are exact in the statement that sums: a fraction committed between its statements cannot send it to all_totals', () => {
    const line = (ts: number, d: number) => `{"type":"stage.completed","stage":"b","duration_s":${d},"ts_epoch":${ts}}`;
    // 3 s inside the window, 5 s two days after it: all_totals holds 8, exact.
    withImported([line(T0 + 10, 3), line(T0 + 2 * D + 10, 5)], (store, dir) => {
      const q: GroupQuery = { streams: ['events'], types: ['stage.completed'], upTo: T0 + D + 100, by: ['stage'], sum: 'duration_s' };
      expect(store.groups(q)).toEqual([['b', 1, 3]]);
      // After each statement the read runs, another connection mirrors 0.3 s after the window: all_totals 8.3 less 5.3 is not 3.
      const statements = afterEachStatement(store, dir, (n) => line(T0 + 2 * D + 20 + n, 0.3), () => {
        expect(store.groups(q)).toEqual([['b', 1, 3]]);
        expect(store.groups(q)).toEqual([['b', 1, 3]]);
      });
      expect(statements).toBeGreaterThan(0);
    });
  });

  it('verify reports a cell that drifted and one the rows do not have, naming the fix; rebuild mends both', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), [
      `{"type":"stage.completed","stage":"build","duration_s":10,"ts_epoch":${T0 + 5}}`,
      `{"type":"stage.completed","stage":"build","duration_s":5,"ts_epoch":${T0 + 7}}`,
      `{"type":"pipeline.completed","result":"success","ts_epoch":${T0 + D}}`,
    ].join('\n') + '\n');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
    withSql(join(dir, 'mirror.db'), (db) => {
      // Setting n fires the trigger an ingest's update fires: all_totals follows the drifted cell, as it follows an ingest.
      db.exec("UPDATE day_totals SET n = n, duration_sum = 30 WHERE stage = 'build'");
      db.exec('INSERT INTO day_totals SELECT stream_id, type_id, day + 3, nulls, stage, model, ok, 1, 0, 0, 0, 0, 0, 0 FROM day_totals WHERE ok = 1');
    });
    const v = cli(['--dir', dir, '--json', 'verify']);
    expect(v.code).not.toBe(0);
    expect(v.json.problems).toEqual([
      expect.objectContaining({ path: 'day_totals', problem: 'changed', detail: expect.stringMatching(/^events stage.completed on 2026-01-01, stage build.*kept n 2, duration_sum 30, dur_min 5, dur_max 10, .*, the rows say n 2, duration_sum 15, .*; run `jsonl-mirror rebuild`/) }),
      expect.objectContaining({ path: 'day_totals', problem: 'extra', detail: expect.stringMatching(/^events pipeline.completed on 2026-01-05.*the rows have none/) }),
    ]);
    // The drifted cell is what metrics history answers its stage durations from.
    const metric = (name: string, source: string) => cli(['--dir', dir, '--json', 'metrics', name, '--source', source, '--now', String(T0 + 2 * D)]).json;
    expect(metric('history', 'sqlite').stage_durations).not.toEqual(metric('history', 'scan').stage_durations);
    expect(cli(['--dir', dir, '--json', 'rebuild', '--yes']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
    expect(metric('history', 'sqlite')).toEqual(metric('history', 'scan'));

    // A drifted least duration alone is reported too, and is what stage performance shows as its minimum.
    withSql(join(dir, 'mirror.db'), (db) => db.exec("UPDATE day_totals SET dur_min = 1 WHERE stage = 'build'"));
    expect(cli(['--dir', dir, '--json', 'verify']).json.problems).toEqual([
      expect.objectContaining({ path: 'day_totals', problem: 'changed', detail: expect.stringMatching(/kept n 2, duration_sum 15, dur_min 1, .*rows say n 2, duration_sum 15, dur_min 5,/) }),
    ]);
    expect(metric('stages', 'sqlite').stages[0].minDuration).toBe(1);
    expect(metric('stages', 'scan').stages[0].minDuration).toBe(5);
  });

  it('verify reports a drifted cost of an issue and a drifted all-time total; rebuild mends both', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), [
      `{"type":"pipeline.cost","issue":7,"model":"opus","input_tokens":1000000,"ts_epoch":${T0 + 5}}`,
      `{"type":"pipeline.cost","issue":7,"model":"opus","cost_usd":2,"ts_epoch":${T0 + 9}}`,
      `{"type":"pipeline.completed","result":"success","duration_s":60,"ts_epoch":${T0 + D}}`,
    ].join('\n') + '\n');
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const metric = (name: string, source: string) => cli(['--dir', dir, '--json', 'metrics', name, '--source', source, '--now', String(T0 + 3 * D)]).json;
    expect(metric('costs', 'sqlite').byIssue).toEqual({ 7: 17 });
    withSql(join(dir, 'mirror.db'), (db) => {
      db.exec('UPDATE issue_costs SET usd_sum = 5');
      db.exec('UPDATE all_totals SET n = n + 1 WHERE ok = 1');
    });
    const v = cli(['--dir', dir, '--json', 'verify']);
    expect(v.code).not.toBe(0);
    expect(v.json.problems).toEqual([
      expect.objectContaining({ path: 'all_totals', problem: 'changed', detail: expect.stringMatching(/^events pipeline.completed of all time, .*success: kept n 2, duration_sum 60, day_totals say n 1, duration_sum 60; run `jsonl-mirror rebuild`/) }),
      expect.objectContaining({ path: 'issue_costs', problem: 'changed', detail: expect.stringMatching(/^events pipeline.cost on 2026-01-01, issue 7, model opus: kept usd_sum 5, tok_in 1000000, .*the rows say usd_sum 2, tok_in 1000000,/) }),
    ]);
    // Each drifted rollup is what a helper answers from: the breakdown by issue, the activity feed's total.
    expect(metric('costs', 'sqlite').byIssue).toEqual({ 7: 20 });
    expect(metric('activity', 'sqlite').total).toBe(4);
    expect(metric('activity', 'scan').total).toBe(3);
    expect(cli(['--dir', dir, '--json', 'rebuild', '--yes']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
    for (const name of ['costs', 'activity']) expect(metric(name, 'sqlite')).toEqual(metric(name, 'scan'));
  });
});

/** Mostly DORA's events, of two issues, over three days: ties of epoch, no usable time, and lines out of time order. */
const doraEventArb = fc.record(
  {
    type: fc.constantFrom('pipeline.started', 'pipeline.completed', 'pipeline.completed', 'stage.completed'),
    at: fc.oneof(fc.integer({ min: 0, max: 3 * D }).map((s) => T0 + s), fc.constantFrom(0, T0, T0 + D, T0 + D + 0.25)),
    result: fc.option(fc.constantFrom('success', 'success', 'failure'), { nil: undefined }),
    issue: fc.option(fc.constantFrom(0, 7, 12), { nil: undefined }),
  },
  { requiredKeys: ['type', 'at'] },
);
const windowArb = fc.record({ since: fc.integer({ min: -D, max: 3 * D }).map((s) => T0 + s), until: bound, upTo: bound });

/** checkPairs over random histories and windows, each on a store of its own. */
function assertPairs(kind: 'sqlite' | 'postgres', open: (dir: string) => Store, max: { ops: number; windows: number; runs: number }): void {
  let paired = 0;
  fc.assert(
    fc.property(fc.array(opsOf(doraEventArb), { minLength: 1, maxLength: max.ops }), fc.array(windowArb, { minLength: 1, maxLength: max.windows }), (ops, windows) => {
      const dir = tmp();
      const store = open(dir);
      try {
        paired += checkPairs(dir, store, kind, ops, windows);
      } finally {
        store.close();
      }
    }),
    { numRuns: max.runs },
  );
  // The histories drawn paired something: a test of no pairs at all would pass whatever the SQL did.
  expect(paired).toBeGreaterThan(0);
}

describe('dora_pairs: the lead-time and time-to-restore pairs the ingest keeps with the rows', () => {
  it('equal a re-pairing of the rows after random histories, and answer every window as pairing its events in log order does', () => {
    assertPairs('sqlite', (dir) => openStore(join(dir, 'mirror.db')), { ops: 30, windows: 10, runs: Number(process.env.ROLLUP_RUNS ?? 40) });
  });

  it('an open that finds the pairs still to fill while another process writes leaves them to a later open, and DORA pairs the rows meanwhile', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), [
      { type: 'pipeline.started', issue: 7, ts_epoch: T0 + 5 },
      { type: 'pipeline.completed', issue: 7, result: 'success', ts_epoch: T0 + 3605 },
    ].map((e) => `${JSON.stringify(e)}\n`).join(''));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const db = join(dir, 'mirror.db');
    withSql(db, (sql) => sql.exec("DELETE FROM dora_pairs; INSERT INTO meta (key, value) VALUES ('pairs_pending', '1')"));
    const now = { now: T0 + D };
    const scan = doraGrades(new ScanSource(dir), now);
    expect(scan.lead_time.value).toBe(1);
    withSql(db, (sql) => {
      sql.exec('BEGIN IMMEDIATE');
      const store = openStore(db, { busyTimeoutMs: 50 });
      try {
        const source = new MirrorSource(store, { kind: 'sqlite' });
        expect(source.pairs({ streams: ['events'], since: T0 })).toBeUndefined();
        expect(doraGrades(source, now)).toEqual(scan);
        // Pairs still to fill are no drift for verify.
        expect(store.pairsPending()).toBe(true);
        expect(verifyMirror(store, dir).problems.filter((p) => p.path === 'dora_pairs')).toEqual([]);
      } finally {
        store.close();
      }
      sql.exec('ROLLBACK');
    });
    const store = openStore(db);
    try {
      expect(store.pairsKept()).toEqual([expect.objectContaining({ issue: 7, lead_from: T0 + 5, fail_from: null })]);
      expect(doraGrades(new MirrorSource(store, { kind: 'sqlite' }), now)).toEqual(scan);
    } finally {
      store.close();
    }
  });

  it('verify reports a pair that drifted, one missing and one the rows do not have, naming the fix; rebuild mends them', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), [
      { type: 'pipeline.started', issue: 7, ts_epoch: T0 + 5 },
      { type: 'pipeline.completed', issue: 7, result: 'success', ts_epoch: T0 + 3605 },
      { type: 'pipeline.started', issue: 12, ts_epoch: T0 + 10 },
      { type: 'pipeline.completed', issue: 12, result: 'success', ts_epoch: T0 + 7210 },
    ].map((e) => `${JSON.stringify(e)}\n`).join(''));
    expect(cli(['--dir', dir, 'import']).code).toBe(0);
    const metric = (source: string) => cli(['--dir', dir, '--json', 'metrics', 'dora', '--source', source, '--now', String(T0 + D)]).json;
    expect(metric('sqlite')).toEqual(metric('scan'));
    withSql(join(dir, 'mirror.db'), (db) => {
      db.exec(`UPDATE dora_pairs SET lead_from = ${T0 + 605} WHERE issue = 7`);
      db.exec('DELETE FROM dora_pairs WHERE issue = 12');
      db.exec(`INSERT INTO dora_pairs VALUES (1, ${T0 + 9000}, 1, 99, 7, ${T0}, NULL)`);
    });
    const v = cli(['--dir', dir, '--json', 'verify']);
    expect(v.code).not.toBe(0);
    expect(v.json.problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'dora_pairs', problem: 'changed', detail: expect.stringMatching(new RegExp(`^events issue 7, .*: kept lead_from ${T0 + 605}, fail_from null, the rows say lead_from ${T0 + 5}, .*run \`jsonl-mirror rebuild\``)) }),
      expect.objectContaining({ path: 'dora_pairs', problem: 'changed', detail: expect.stringMatching(/^events issue 12, .*: kept nothing, the rows say/) }),
      expect.objectContaining({ path: 'dora_pairs', problem: 'extra', detail: expect.stringMatching(/^events issue 7, .*event 99\): kept .*the rows have none/) }),
    ]));
    expect(v.json.problems).toHaveLength(3);
    // The drifted pairs are what DORA answers from.
    expect(metric('sqlite').lead_time).not.toEqual(metric('scan').lead_time);
    expect(cli(['--dir', dir, '--json', 'rebuild', '--yes']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
    expect(metric('sqlite')).toEqual(metric('scan'));
  });

  it('prune recounts the day cells of events past the dated days from every epoch on their side, not from one day of seconds', () => {
    const dir = undatedRotatedLog();
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      checkPrunedUndated(store, dir, 'sqlite');
    } finally {
      store.close();
    }
  });

  it('prune drops the pairs of the rows it drops and pairs again the completions whose start or failure it dropped', () => {
    const dir = tmp();
    const live = join(dir, 'events.jsonl');
    const write = (events: object[]) => writeFileSync(live, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    write([
      { type: 'pipeline.started', issue: 7, ts_epoch: T0 + 5 },
      { type: 'pipeline.completed', issue: 7, result: 'failure', ts_epoch: T0 + 9 },
      { type: 'pipeline.started', issue: 12, ts_epoch: T0 + 10 },
      { type: 'pipeline.completed', issue: 12, result: 'success', ts_epoch: T0 + 20 },
    ]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
      renameSync(live, `${live}.1`);
      write([{ type: 'pipeline.completed', issue: 7, result: 'success', ts_epoch: T0 + 3600 }]);
      ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
      const source = new MirrorSource(store, { kind: 'sqlite' });
      const w = { streams: ['events'], since: T0 };
      expect(source.pairs(w)).toEqual({ leads: 2, leadSeconds: 10 + 3595, restores: 1, restoreSeconds: 3591 });
      rmSync(`${live}.1`);
      pruneHistory(store, { dir });
      expect(store.pairsKept()).toEqual([]);
      expect(source.pairs(w)).toEqual({ leads: 0, leadSeconds: 0, restores: 0, restoreSeconds: 0 });
      const now = { now: T0 + D };
      expect(doraGrades(source, now)).toEqual(doraGrades(new ScanSource(dir), now));
    } finally {
      store.close();
    }
  });
});

describe('the rollups answer exactly as the rows where floating-point arithmetic could tell them apart', () => {
  const NOW = 1770768000;
  const log = (dir: string, events: object[], append = false) =>
    (append ? appendFileSync : writeFileSync)(join(dir, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const answers = (dir: string, store: Store, helper: (src: MirrorSource | ScanSource) => unknown) =>
    [helper(new MirrorSource(store, { kind: 'sqlite' })), helper(new ScanSource(dir))];

  it('an all-time duration sum with days after the window (0.5 + 0.5 + 0.4 - 0.4 is not 1)', () => {
    const dir = tmp();
    const at = (type: string, duration_s: number, ts_epoch: number) => ({ type, stage: 'build', result: 'success', duration_s, ts_epoch });
    log(dir, [0, 1].flatMap((i) => [at('stage.completed', 0.5, NOW - 2 * D + i), at('pipeline.completed', 0.5, NOW - 2 * D + i)])
      .concat([at('stage.completed', 0.4, NOW + 3 * D), at('pipeline.completed', 0.4, NOW + 3 * D)]));
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      const [mirror, scan] = answers(dir, store, (src) => metricsHistory(src, { now: NOW }));
      expect(mirror).toEqual(scan);
      expect((scan as { stage_durations: object }).stage_durations).toEqual({ build: 1 });
    } finally {
      store.close();
    }
  });

  it('one day of durations ingested in two batches (0.4, then 0.6)', () => {
    const dir = tmp();
    log(dir, [{ type: 'stage.completed', stage: 'build', duration_s: 0.4, ts_epoch: NOW - 2 * D + 10 }]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      log(dir, [{ type: 'stage.completed', stage: 'build', duration_s: 0.6, ts_epoch: NOW - 2 * D + 20 }], true);
      ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
      const [mirror, scan] = answers(dir, store, (src) => metricsHistory(src, { now: NOW }).stage_durations);
      expect(mirror).toEqual(scan);
      expect(scan).toEqual({ build: 1 });
    } finally {
      store.close();
    }
  });

  it('an all-time sum of whole seconds is read from all_totals, and from the days once a fraction has been summed', () => {
    const dir = tmp();
    const done = (duration_s: number, ts_epoch: number) => ({ type: 'stage.completed', stage: 'build', duration_s, ts_epoch });
    // Days after the window (NOW + 3 d) too: the read takes their cells away from all_totals.
    log(dir, [done(10, NOW - 2 * D), done(21, NOW - D), done(40, NOW + 3 * D)]);
    const db = join(dir, 'mirror.db');
    const store = openStore(db);
    const history = (src: MirrorSource | ScanSource) => metricsHistory(src, { now: NOW }).stage_durations;
    try {
      importAll(store, dir);
      expect(answers(dir, store, history)).toEqual([{ build: 16 }, { build: 16 }]);
      // A kept sum changed behind the store's back shows in the answer: it is what the answer read.
      withSql(db, (sql) => sql.exec('UPDATE all_totals SET duration_sum = duration_sum + 1000'));
      expect(history(new MirrorSource(store, { kind: 'sqlite' }))).toEqual({ build: 516 });
      // A fraction, even on another stage of the same type, and the days answer again (the changed sum is left unread).
      log(dir, [{ ...done(0.5, NOW - D), stage: 'test' }], true);
      ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
      const [mirror, scan] = answers(dir, store, history);
      expect(mirror).toEqual(scan);
      expect(scan).toEqual({ build: 16, test: 1 });
      expect(verifyMirror(store, dir).problems).toEqual([expect.objectContaining({ path: 'all_totals', problem: 'changed' })]);
    } finally {
      store.close();
    }
  });

  it('durations that add up past the largest double keep being ingested', () => {
    const dir = tmp();
    const e = (i: number) => ({ type: 'stage.completed', stage: 'build', duration_s: 1e308, ts_epoch: NOW - 2 * D + i });
    log(dir, [e(1)]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      for (let i = 2; i < 5; i++) {
        log(dir, [e(i)], true);
        expect(ingestStream(store, dir, 'events', { rotatedGraceMs: 0 }).rows).toBe(1);
      }
      expect(store.allTotalsKept().map((t) => t.n)).toEqual([4]);
    } finally {
      store.close();
    }
  });

  it('verify does not take an all-time sum that is no longer read for a drift: past 2^52 it can only round apart from its days', () => {
    const dir = tmp();
    const e = (duration_s: number, i: number) => ({ type: 'stage.completed', stage: 'build', duration_s, ts_epoch: NOW - 3 * D + i * D });
    // Past 2^52 a running sum drops what it adds (2^53 + 1 is 2^53), where the days' sum (SQLite's TOTAL) keeps it.
    log(dir, [e(2 ** 53, 0), e(1, 1), e(1, 2)]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      // Once the huge day is pruned, what the running sum kept of the small ones can be off by far more than a sum's rounding
      // of them (1e-6 of it): the key is inexact, the sum unread.
      withSql(join(dir, 'mirror.db'), (db) => db.exec('UPDATE all_totals SET duration_sum = duration_sum + 1e12'));
      expect(store.allTotalsKept()).toEqual([expect.objectContaining({ n: 3, inexact: 1 })]);
      expect(verifyMirror(store, dir).problems).toEqual([]);
      // Its count is still checked.
      withSql(join(dir, 'mirror.db'), (db) => db.exec('UPDATE all_totals SET n = 4'));
      expect(verifyMirror(store, dir).problems).toEqual([expect.objectContaining({ path: 'all_totals', problem: 'changed' })]);
    } finally {
      store.close();
    }
  });

  it('a model named as a property every object has (constructor) is priced as an unknown one, by the scan too', () => {
    const dir = tmp();
    log(dir, [{ type: 'pipeline.cost', model: 'constructor', input_tokens: 1e6, ts_epoch: NOW - 100 }]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      const [mirror, scan] = answers(dir, store, (src) => costBreakdown(src, { now: NOW }));
      expect(mirror).toEqual(scan);
      expect((scan as { byModel: object }).byModel).toEqual({ constructor: 3 });
    } finally {
      store.close();
    }
  });

  it('a negative price is refused; a table with one, passed to the library, is priced per event as the scan does', () => {
    expect(() => mergeConfig({ prices: { opus: { input: 15, output: -1 } } })).toThrow(/price of model "opus" must not be negative/);
    const dir = tmp();
    log(dir, [
      { type: 'pipeline.cost', ts_epoch: NOW - 3 * D + 100, model: 'opus', issue: 5, input_tokens: 0, output_tokens: 1_000_000 },
      { type: 'pipeline.cost', ts_epoch: NOW - 3 * D + 200, model: 'opus', issue: 5, input_tokens: 1_000_000, output_tokens: 0 },
    ]);
    const store = openStore(join(dir, 'mirror.db'));
    try {
      importAll(store, dir);
      const config = { ...DEFAULT_CONFIG, prices: { ...DEFAULT_CONFIG.prices, opus: { input: 15, output: -1 } } };
      const [mirror, scan] = answers(dir, store, (src) => costBreakdown(src, { now: NOW + 5, config }));
      expect(mirror).toEqual(scan);
      expect((scan as { total: number }).total).toBe(15);
    } finally {
      store.close();
    }
  });
});

describe('day_totals on PostgreSQL', () => {
  let server: PgServer;
  let url: string;
  beforeAll(async () => {
    server = await startPg();
    url = await server.createDb('rollups');
  });
  afterAll(() => server?.stop());

  it('a window ending inside a day reads that day from its cell only when no row of the read lies after the window that day, per host', async () => {
    const fleet = await server.createDb('end_day');
    const dir = fleetOf(fleet, END_DAY_EVENTS);
    const store = openPgStore(fleet, { hostId: 'a', readonly: true });
    try {
      for (const host of ['a', 'b']) checkEndDay(new MirrorSource(store, { kind: 'postgres', host }), new ScanSource(dir));
    } finally {
      store.close();
    }
  });

  it('prune recounts the day cells of events past the dated days from every epoch on their side, per host', async () => {
    const fleet = await server.createDb('prune_undated');
    const dir = undatedRotatedLog();
    const store = openPgStore(fleet, { hostId: 'a' });
    try {
      importAll(store, dir);
      checkPrunedUndated(store, dir, 'postgres');
    } finally {
      store.close();
    }
  });

  it('migration 007 leaves each host its pairs to fill: its own writer fills them, and until then DORA of that host pairs its rows', async () => {
    const url2 = await server.createDb('pairs_migration');
    const dir = fleetOf(url2, [
      { type: 'pipeline.started', issue: 7, ts_epoch: T0 + 5 },
      { type: 'pipeline.completed', issue: 7, result: 'failure', ts_epoch: T0 + 65 },
      { type: 'pipeline.completed', issue: 7, result: 'success', ts_epoch: T0 + 3605 },
    ]);
    // The fleet as the version before sql/pg/007 left it.
    await withPgClient(url2, async (c) => {
      await c.query('DROP TABLE dora_pairs');
      await c.query('DELETE FROM schema_migrations WHERE version = 7');
    });
    const now = { now: T0 + D };
    const w = { streams: ['events'], since: T0 };
    const a = openPgStore(url2, { hostId: 'a' });
    const b = openPgStore(url2, { hostId: 'b', readonly: true });
    try {
      const [ofA, ofB] = [a, b].map((s) => new MirrorSource(s, { kind: 'postgres', host: s.host }));
      expect(a.pairsKept()).toEqual([expect.objectContaining({ issue: 7, lead_from: T0 + 5, fail_from: T0 + 65 })]);
      expect(ofA!.pairs(w)).toEqual({ leads: 1, leadSeconds: 3600, restores: 1, restoreSeconds: 3540 });
      expect(ofB!.pairs(w)).toBeUndefined();
      expect(doraGrades(ofB!, now)).toEqual(doraGrades(ofA!, now));
      expect(doraGrades(ofA!, now)).toEqual(doraGrades(new ScanSource(dir), now));
    } finally {
      a.close();
      b.close();
    }
    const b2 = openPgStore(url2, { hostId: 'b' });
    try {
      expect(new MirrorSource(b2, { kind: 'postgres', host: 'b' }).pairs(w)).toEqual({ leads: 1, leadSeconds: 3600, restores: 1, restoreSeconds: 3540 });
    } finally {
      b2.close();
    }
  });

  it('migration 008 fills the all-time duration sums of a fleet from its day cells, each host its own', async () => {
    const url2 = await server.createDb('sums_migration');
    const dir = fleetOf(url2, [
      { type: 'stage.completed', stage: 'build', duration_s: 10, ts_epoch: T0 + 5 },
      { type: 'stage.completed', stage: 'build', duration_s: 21, ts_epoch: T0 + D + 5 },
      { type: 'stage.completed', stage: 'test', duration_s: 0.5, ts_epoch: T0 + 5 },
    ]);
    // The fleet as the version before sql/pg/008 left it (its trigger function is replaced by 008 again).
    await withPgClient(url2, async (c) => {
      await c.query('ALTER TABLE all_totals DROP COLUMN duration_sum, DROP COLUMN inexact');
      await c.query('DROP FUNCTION whole_below_2_40');
      await c.query('DELETE FROM schema_migrations WHERE version = 8');
    });
    const a = openPgStore(url2, { hostId: 'a' });
    try {
      const sums = Object.fromEntries(a.allTotalsKept().map((t) => [t.stage, t.duration_sum]));
      expect(sums).toEqual({ build: 31, test: 0.5 });
      expect(verifyMirror(a, dir).problems).toEqual([]);
      const flags = await withPgClient(url2, (c) => c.query("SELECT stage, inexact FROM all_totals WHERE host = 'a' ORDER BY stage"));
      expect(flags.rows).toEqual([{ stage: 'build', inexact: false }, { stage: 'test', inexact: true }]);
      const now = { now: T0 + 3 * D };
      expect(metricsHistory(new MirrorSource(a, { kind: 'postgres', host: 'a' }), now)).toEqual(metricsHistory(new ScanSource(dir), now));
    } finally {
      a.close();
    }
  });

  it('equals a recount from the rows after the same random histories, each as a host of its own', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.array(groupArb, { minLength: 1, maxLength: 8 }), (ops, queries) => {
        const dir = tmp();
        const store = openPgStore(url, { hostId: `h${run++}` });
        try {
          checkRollups(dir, store, 'postgres', ops, queries);
        } finally {
          store.close();
        }
      }),
      { numRuns: Number(process.env.PG_ROLLUP_RUNS ?? 30) },
    );
  });

  it('dora_pairs equal a re-pairing of each host own rows after random histories, and answer its windows as its events paired do', () => {
    let run = 0;
    assertPairs('postgres', () => openPgStore(url, { hostId: `d${run++}` }), { ops: 20, windows: 6, runs: Number(process.env.PG_ROLLUP_RUNS ?? 30) });
    // The fleet as a whole: its hosts each hold pipeline events, so DORA over all of them pairs the rows.
    const fleet = openPgStore(url, { hostId: 'd0', readonly: true });
    try {
      expect(new MirrorSource(fleet, { kind: 'postgres' }).pairs({ streams: ['events'], since: T0 })).toBeUndefined();
    } finally {
      fleet.close();
    }
  });
});
