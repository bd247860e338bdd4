import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createReader, type Reader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { importAll } from '../src/import/import.js';
import { tmp } from './helpers.js';

export const NOW = 1770768000; // 2026-02-11T00:00:00Z
export const H = 3600;
export const D = 86400;

export function at(epoch: number, e: Record<string, unknown>): Record<string, unknown> {
  return { ts: new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), ts_epoch: epoch, ...e };
}

export function writeLog(events: (Record<string, unknown> | string)[], name = 'events.jsonl', dir = tmp()): string {
  writeFileSync(join(dir, name), events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n');
  return dir;
}

/** Runs `fn` on the scan and on a freshly imported mirror; both must give `expected`. */
export function expectBoth<T>(dir: string, fn: (r: Reader) => T, expected: T): void {
  const scan = createReader({ dir, source: 'scan' });
  expect(fn(scan), 'scan').toEqual(expected);
  const store = openStore(join(dir, 'mirror.db'));
  importAll(store, dir);
  store.close();
  const sqlite = createReader({ dir, source: 'sqlite' });
  try {
    expect(fn(sqlite), 'sqlite').toEqual(expected);
  } finally {
    sqlite.close();
  }
}

/** Every helper, with parameters that exercise windows, ties and pagination. */
export function allHelpers(r: Reader, now: number): Record<string, unknown> {
  const feed = (o: Parameters<Reader['activity']>[0]) => {
    const f = r.activity(o);
    return { events: f.events, total: f.total, hasMore: f.hasMore };
  };
  return {
    activity: feed({ limit: 7 }),
    activityNow: feed({ limit: 7, now }),
    activityTyped: feed({ type: 'stage', limit: 5, offset: 2, now }),
    activityIssue: feed({ issue: 2 }),
    costs: r.costBreakdown({ now }),
    costs30: r.costBreakdown({ now, period: 30 }),
    costTrend: r.costTrend({ now }),
    dora: r.doraGrades({ now }),
    dora3: r.doraGrades({ now, period: 3 }),
    doraTrend: r.doraTrend({ now }),
    stages: r.stagePerformance({ now }),
    stages4: r.stagePerformance({ now, period: 4 }),
    bottlenecks: r.bottlenecks({ now }),
    heatmap: r.failureHeatmap({ now }),
    throughput: r.throughputTrend({ now }),
    history: r.metricsHistory({ now }),
    historyUnrounded: r.metricsHistory({ now, gradeUnrounded: true }).dora_grades,
    costsBothStreams: r.costBreakdown({ now, streams: ['events', 'costs'] }),
    costToday: r.costToday({ now }),
    timeline: r.timeline({ now }),
    timeline3: r.timeline({ now, range: 3 }),
    issue2: r.issueEvents({ issue: 2, now }),
    issue3: r.issueEvents({ issue: 3, now: now - 86400 }),
    patrol: r.patrol({ now }),
    patrolEarlier: r.patrol({ now: now - 5 * 86400 }),
  };
}
