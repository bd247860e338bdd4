import { appendFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import type { GroupKey, GroupQuery } from '../src/model/query.js';
import { typeMatches } from '../src/model/rules.js';
import { pruneHistory } from '../src/ops/prune.js';
import { verifyMirror } from '../src/ops/verify.js';
import { groupEvents } from '../src/read/source.js';
import { MirrorSource } from '../src/read/mirror-source.js';
import { openStore, type SqliteStore } from '../src/store/open.js';
import type { DayTotal } from '../src/store/rows.js';
import { cli, tmp, withSql } from './helpers.js';

const D = 86_400;
/** A Thursday midnight: the windows below start before it, inside it and after it. */
const T0 = 1_767_225_600;
const TYPES = ['pipeline.completed', 'stage.completed', 'stage.failed', 'stage', 'stage.failed.retry', 'other'];

const eventArb = fc.record(
  {
    type: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
    // Six days of seconds, some on a day's first or last second, some fractional, some with no usable time (epoch 0).
    at: fc.oneof(
      fc.integer({ min: -D, max: 5 * D }).map((s) => T0 + s),
      fc.integer({ min: -1, max: 5 }).chain((d) => fc.constantFrom(T0 + d * D, T0 + d * D - 1, T0 + d * D + 0.25)),
      fc.constant(0),
    ),
    stage: fc.option(fc.constantFrom('build', 'test', '', '3:x'), { nil: undefined }),
    model: fc.option(fc.constantFrom('opus', 'haiku', ''), { nil: undefined }),
    result: fc.option(fc.constantFrom('success', 'failure'), { nil: undefined }),
    duration_s: fc.option(fc.oneof(fc.integer({ min: 0, max: 900 }), fc.constant(0.1)), { nil: undefined }),
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

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.array(eventArb, { minLength: 1, maxLength: 30 }).map((es) => ({ kind: 'events' as const, lines: es.map(line) })) },
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

/** Appends, rotations by rename, deletion of the oldest rotated file, ingests, imports and prunes, in the order drawn. */
function play(dir: string, store: SqliteStore, ops: Op[]): void {
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
  }
  importAll(store, dir);
}

const cells = (list: DayTotal[]) => list.map((c) => ({ ...c, duration_sum: Math.round(c.duration_sum * 1e6) / 1e6 })).map((c) => JSON.stringify(c)).sort();

const bound = fc.option(fc.integer({ min: -2 * D, max: 7 * D }).chain((s) => fc.constantFrom(T0 + s, T0 + Math.round(s / D) * D)), { nil: undefined });
const groupArb = fc.record({
  types: fc.subarray(TYPES, { minLength: 1 }),
  since: bound,
  until: bound,
  upTo: bound,
  timed: fc.boolean(),
  by: fc.subarray(['stage', 'model', 'date', 'success'] as GroupKey[], { minLength: 1 }),
  sum: fc.constantFrom(undefined, 'duration_s' as const),
});

/** A group row as compared: the keys, the count, and the sum to the precision a sum in another order keeps. */
const rowsOf = (rows: { keys: unknown[]; count: number; sum: number }[]) =>
  rows.map((r) => JSON.stringify([r.keys, r.count, Math.round(r.sum * 1e6) / 1e6])).sort();

describe('day_totals: the rollup the ingest keeps with the rows', () => {
  it('equals a recount from the rows after random appends, rotations, deletions, ingests, imports and prunes; windowed counts equal the rows', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.array(groupArb, { minLength: 1, maxLength: 12 }), (ops, queries) => {
        const dir = tmp();
        const store = openStore(join(dir, 'mirror.db'));
        try {
          play(dir, store, ops);
          expect(cells(store.dayTotalsKept())).toEqual(cells(store.dayTotalsFromRows()));
          expect(verifyMirror(store, dir).problems.filter((p) => p.path === 'day_totals')).toEqual([]);
          const source = new MirrorSource(store, { kind: 'sqlite' });
          for (const g of queries) {
            const q: GroupQuery = { streams: ['events'], ...g };
            // events() reads the rows alone; groups() reads whole days from day_totals.
            expect(rowsOf(source.groups(q)), JSON.stringify(q)).toEqual(rowsOf(groupEvents(source.events(q), q)));
            const feed = { streams: ['events'], type: g.types[0], upTo: g.upTo, limit: 1, offset: 0 };
            const all = store.records({ streams: ['events'], upTo: g.upTo, fields: ['type'] });
            expect(source.feed(feed).total).toBe(all.filter((r) => typeMatches(r.type, feed.type)).length);
            expect(source.feed({ ...feed, type: undefined }).total).toBe(all.length);
          }
        } finally {
          store.close();
        }
      }),
      { numRuns: Number(process.env.ROLLUP_RUNS ?? 40) },
    );
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
      db.exec("UPDATE day_totals SET duration_sum = 30 WHERE stage = 'build'");
      db.exec('INSERT INTO day_totals SELECT stream_id, type_id, day + 3, nulls, stage, model, ok, 1, 0 FROM day_totals WHERE ok = 1');
    });
    const v = cli(['--dir', dir, '--json', 'verify']);
    expect(v.code).not.toBe(0);
    expect(v.json.problems).toEqual([
      expect.objectContaining({ path: 'day_totals', problem: 'changed', detail: expect.stringMatching(/^events stage.completed on 2026-01-01, stage build.*kept 2 events \(duration 30\), rows say 2 \(15\); run `jsonl-mirror rebuild`/) }),
      expect.objectContaining({ path: 'day_totals', problem: 'extra', detail: expect.stringMatching(/^events pipeline.completed on 2026-01-05.*the rows have none/) }),
    ]);
    // The drifted cell is what metrics history answers its stage durations from.
    const history = (source: string) => cli(['--dir', dir, '--json', 'metrics', 'history', '--source', source, '--now', String(T0 + 2 * D)]).json;
    expect(history('sqlite').stage_durations).not.toEqual(history('scan').stage_durations);
    expect(cli(['--dir', dir, '--json', 'rebuild', '--yes']).code).toBe(0);
    expect(cli(['--dir', dir, '--json', 'verify']).json.ok).toBe(true);
    expect(history('sqlite')).toEqual(history('scan'));
  });
});
