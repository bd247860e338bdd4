import { appendFileSync, copyFileSync, existsSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importAll } from '../src/import/import.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import { createReader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { epochOf } from '../src/ingest/normalize.js';
import { FIXTURES, tmp } from './helpers.js';
import { METRIC_KEYS } from '../src/api/metric-list.js';
import { allHelpers, D, defaultCases, NOW, uncoveredMetrics, undatedLog, writeLog } from './metrics-helpers.js';
import { DATED_EPOCHS, dayKey } from '../src/model/rules.js';
import { verifyMirror } from '../src/ops/verify.js';

const maybeString = (n: fc.Arbitrary<number>) => fc.oneof(n, n.map(String), fc.constant('.'), fc.constant(undefined));
const eventArb = fc.record(
  {
    type: fc.constantFrom('pipeline.started', 'pipeline.completed', 'stage.completed', 'stage.failed', 'stage.started',
      'pipeline.cost', 'cost.record', 'stage', 'other.thing', 'patrol.finding', 'patrol.completed'),
    // Mostly inside the windows, with many ties; some with no usable time.
    dt: fc.oneof(fc.integer({ min: 0, max: 40 * 86400 }), fc.constantFrom(0, 3600, 7200)),
    epochAs: fc.constantFrom('number', 'number', 'number', 'string', 'missing', 'none'),
    issue: maybeString(fc.integer({ min: 0, max: 4 })),
    // Two stages cut inside different emoji (lone surrogates, as JSON.stringify writes them): two groups everywhere.
    stage: fc.option(fc.constantFrom('build', 'test', 'plan', '', 'ship\ud83d', 'ship\ud83e'), { nil: undefined }),
    result: fc.option(fc.constantFrom('success', 'success', 'failure', 'error'), { nil: undefined }),
    duration_s: maybeString(fc.integer({ min: 0, max: 2000 })),
    cost_usd: maybeString(fc.integer({ min: -100, max: 500 }).map((c) => c / 100)),
    estimated_cost_usd: fc.option(fc.integer({ min: 0, max: 500 }).map((c) => c / 100), { nil: undefined }),
    model: fc.option(fc.constantFrom('opus', 'Sonnet', 'haiku', 'mystery', 'opus\udc00'), { nil: undefined }),
    input_tokens: maybeString(fc.integer({ min: 0, max: 3_000_000 })),
    output_tokens: maybeString(fc.integer({ min: 0, max: 300_000 })),
    title: fc.constantFrom('', 'Fix login', 'Add cache', 5),
  },
  { requiredKeys: ['type', 'dt', 'epochAs'] },
);

/** costs.json entries as Shipwright writes them: issue a string or "", mostly within the last days. */
const costEntryArb = fc.record({
  dt: fc.integer({ min: -3600, max: 3 * 86400 }),
  issue: fc.constantFrom('', '42', '2', 2),
  cost_usd: fc.option(fc.integer({ min: 0, max: 500 }).map((c) => c / 100), { nil: undefined }),
  input_tokens: fc.integer({ min: 0, max: 1_000_000 }),
  output_tokens: fc.integer({ min: 0, max: 100_000 }),
  model: fc.constantFrom('opus', 'sonnet', 'haiku', 'x'),
  stage: fc.constantFrom('build', 'plan'),
});
const budgetArb = fc.constantFrom(undefined, '{"daily_budget_usd": 25}', '{"daily_budget_usd": "25"}', '{"daily_budget_usd": 25', '[]');

/** A random costs.json of entries relative to `now`; the part after `grown` is written only after the mirror was filled. */
function costsFile(entries: fc.RecordValue<typeof costEntryArb>[], now: number): string {
  return JSON.stringify({
    entries: entries.map(({ dt, ...e }) => ({ ...e, ts: new Date((now - dt) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ts_epoch: now - dt })),
  });
}

type Op = { kind: 'event'; text: string } | { kind: 'bad'; text: string } | { kind: 'rotate' } | { kind: 'copytruncate' } | { kind: 'ingest' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: eventArb.map((e) => ({ kind: 'event' as const, text: toLine(e) })) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":', '[]', '"x"', '', 'null', '{"type":"stage.failed"').map((text) => ({ kind: 'bad' as const, text })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rotate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'copytruncate' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'ingest' as const }) },
);

function toLine(e: Record<string, unknown>): string {
  const { dt, epochAs, ...rest } = e as { dt: number; epochAs: string };
  const epoch = NOW - (dt as number);
  const ts = new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const head: Record<string, unknown> =
    epochAs === 'number' ? { ts, ts_epoch: epoch } : epochAs === 'string' ? { ts, ts_epoch: String(epoch) } : epochAs === 'missing' ? { ts } : {};
  return JSON.stringify({ ...head, ...rest });
}

/** Plays the ops against a directory: appends, rotations (rename or copytruncate), and ingests at those moments. */
function play(dir: string, ops: Op[], ingestAlong: boolean): void {
  const store = ingestAlong ? openStore(join(dir, 'mirror.db')) : undefined;
  const live = join(dir, 'events.jsonl');
  writeFileSync(live, '');
  let rotations = 0;
  for (const op of ops) {
    if (op.kind === 'rotate' || op.kind === 'copytruncate') {
      for (let i = rotations; i >= 1; i--) renameSync(`${live}.${i}`, `${live}.${i + 1}`);
      if (op.kind === 'rotate') {
        renameSync(live, `${live}.1`);
        writeFileSync(live, '');
      } else {
        copyFileSync(live, `${live}.1`);
        truncateSync(live, 0);
      }
      rotations++;
    } else if (op.kind === 'ingest') {
      if (store) ingestStream(store, dir, 'events', { rotatedGraceMs: 0 });
    } else {
      appendFileSync(live, `${op.text}\n`);
    }
  }
  store?.close();
}

function compare(dir: string, now: number, fill: (dir: string) => void, after?: () => void): void {
  fill(dir);
  after?.();
  const scan = createReader({ dir, source: 'scan' });
  const expected = allHelpers(scan, now);
  const sqlite = createReader({ dir, source: 'sqlite' });
  try {
    expect(allHelpers(sqlite, now)).toEqual(expected);
  } finally {
    sqlite.close();
  }
}

const importOnce = (dir: string) => {
  const s = openStore(join(dir, 'mirror.db'));
  importAll(s, dir);
  s.close();
};

describe('parity: every helper gives deep-equal results from SQLite and from the scan', () => {
  it('covers every metric of the list, and a metric without a case fails', () => {
    expect(uncoveredMetrics(defaultCases(NOW))).toEqual([]);
    const { patrol: _left, ...withoutPatrol } = defaultCases(NOW);
    expect(uncoveredMetrics(withoutPatrol)).toEqual(['patrol: no parity case']);
    expect(uncoveredMetrics({ ...defaultCases(NOW), timeline: [] })).toEqual(['timeline: no parity case']);
    expect(uncoveredMetrics({ ...defaultCases(NOW), notAMetric: [{}] })).toEqual(['notAMetric: not a metric of the list']);
    const r = createReader({ dir: tmp(), source: 'scan' });
    try {
      expect(() => allHelpers(r, NOW, withoutPatrol as ReturnType<typeof defaultCases>)).toThrow(/patrol: no parity case/);
      const answers = Object.keys(allHelpers(r, NOW));
      for (const key of METRIC_KEYS) expect(answers, key).toContain(`${key} 0`);
    } finally {
      r.close();
    }
  });

  it('on random logs, costs.json and budget.json, at a random now, filled by one import, by repeated imports, or by ingests along the way', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 120 }),
        fc.constantFrom('once', 'twice', 'along'),
        // now: at the end of the data, inside it, or before most of it.
        fc.oneof(fc.constant(NOW), fc.integer({ min: NOW - 45 * D, max: NOW + D })),
        fc.array(costEntryArb, { maxLength: 12 }),
        fc.array(costEntryArb, { maxLength: 4 }),
        budgetArb,
        (ops, mode, now, costs, grown, budget) => {
          const dir = tmp();
          play(dir, ops, mode === 'along');
          if (costs.length) writeFileSync(join(dir, 'costs.json'), costsFile(costs, NOW));
          if (budget !== undefined) writeFileSync(join(dir, 'budget.json'), budget);
          compare(dir, now, (d) => {
            importOnce(d);
            if (mode === 'twice') importOnce(d);
          }, () => {
            // Shipwright appended to costs.json after the mirror was filled: reads catch up.
            if (grown.length) writeFileSync(join(dir, 'costs.json'), costsFile([...costs, ...grown], NOW));
          });
        },
      ),
      { numRuns: Number(process.env.PARITY_RUNS ?? 60) },
    );
  });

  it('with events stamped where no date can be named: every helper answers, the date-keyed ones skip them, and verify passes', () => {
    const dir = writeLog(undatedLog(NOW));
    // now in the present, and on the last second a date can name (its windows reach the events stamped there).
    for (const now of [NOW, DATED_EPOCHS[1]]) compare(dir, now, importOnce);
    const r = createReader({ dir, source: 'sqlite' });
    try {
      expect(Object.keys(r.failureHeatmap({ now: NOW }).heatmap.build!)).toEqual(['-271821-04-20', dayKey(NOW - 3600)]);
      // Its totals are of all time, with or without a date: the five completions up to now.
      expect(r.metricsHistory({ now: NOW }).total_completed).toBe(5);
      expect(() => r.activity({ now: DATED_EPOCHS[1] + 1 })).toThrow(/now must be epoch seconds from -8640000000000 to 8640000000000/);
    } finally {
      r.close();
    }
    // A timeline whose range reaches a stage event with no ts and no date cannot show it, and says which, from either backend.
    for (const source of ['sqlite', 'scan'] as const) {
      const reader = createReader({ dir, source });
      try {
        // A window is at most a century: this one starts a day before the first second a date can name.
        expect(() => reader.timeline({ now: DATED_EPOCHS[0] + 3600 })).toThrow(expect.objectContaining({
          code: 'INVALID_EVENT', message: expect.stringMatching(/^the timeline cannot show the stage.started event of issue 2 at epoch -8640000000001: it has no `ts`/),
        }));
      } finally {
        reader.close();
      }
    }
    const store = openStore(join(dir, 'mirror.db'));
    try {
      expect(verifyMirror(store, dir).ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('on the real Shipwright logs', () => {
    for (const name of ['events-a.jsonl', 'events-b.jsonl']) {
      const dir = tmp();
      copyFileSync(join(FIXTURES, 'shipwright', name), join(dir, 'events.jsonl'));
      // The logs end on 2026-02-11; look at them from then and from a day later.
      for (const now of [1770854400, 1770854400 + D]) compare(dir, now, importOnce);
    }
  });

  it('newestEpoch is the newest event of the activity feed, from SQLite and from the scan, and null for a stream with none', () => {
    const dir = tmp();
    copyFileSync(join(FIXTURES, 'shipwright', 'events-a.jsonl'), join(dir, 'events.jsonl'));
    importOnce(dir);
    const newest = (source: 'sqlite' | 'scan') => {
      const r = createReader({ dir, source });
      try {
        const first = r.activity({ limit: 1 }).events[0]!;
        return { epoch: r.newestEpoch(), feed: epochOf(first.ts_epoch, first.ts), none: r.newestEpoch(['nosuch']) };
      } finally {
        r.close();
      }
    };
    const lite = newest('sqlite');
    expect(lite.epoch).toBeGreaterThan(1_700_000_000);
    expect(lite).toEqual({ epoch: lite.feed, feed: lite.feed, none: null });
    expect(newest('scan')).toEqual(lite);
  });

  it('whether the mirror was filled by import or, line by line, by ingests', () => {
    const dir = tmp();
    copyFileSync(join(FIXTURES, 'shipwright', 'events-b.jsonl'), join(dir, 'src.jsonl'));
    const lines = readFileSync(join(dir, 'src.jsonl'), 'utf8').split('\n').slice(0, 3000) as string[];
    const store = openStore(join(dir, 'mirror.db'));
    for (let i = 0; i < lines.length; i += 97) {
      appendFileSync(join(dir, 'events.jsonl'), lines.slice(i, i + 97).join('\n') + '\n');
      ingestStream(store, dir, 'events');
    }
    store.close();
    expect(existsSync(join(dir, 'mirror.db'))).toBe(true);
    compare(dir, 1770854400, importOnce);
  });
});
