import type { NormalEvent } from '../model/event.js';
import type { EventSource } from '../read/source.js';
import { mean, resolve, round2, sortedRecord, DAY, type MetricOptions } from './common.js';

export interface StagePerformance {
  stages: { name: string; avgDuration: number; minDuration: number; maxDuration: number; count: number; cost: number; trend: number }[];
}

interface Acc {
  sum: number;
  n: number;
  min: number;
  max: number;
  cost: number;
  older: { sum: number; n: number };
  newer: { sum: number; n: number };
}

function stageCompletions(src: EventSource, streams: string[], since: number, upTo: number): (NormalEvent & { stage: string })[] {
  return src.events({ streams, types: ['stage.completed'], since, upTo, fields: ['ts_epoch', 'stage', 'duration_s', 'cost_usd'] }).filter((e): e is NormalEvent & { stage: string } => e.stage !== null);
}

export function stagePerformance(src: EventSource, o: MetricOptions = {}): StagePerformance {
  const r = resolve(src, o, 7);
  const split = r.now - Math.floor(r.period / 2) * DAY;
  const acc = new Map<string, Acc>();
  for (const e of stageCompletions(src, r.streams, r.now - r.period * DAY, r.now)) {
    const d = e.duration_s ?? 0;
    let a = acc.get(e.stage);
    if (!a) {
      a = { sum: 0, n: 0, min: d, max: d, cost: 0, older: { sum: 0, n: 0 }, newer: { sum: 0, n: 0 } };
      acc.set(e.stage, a);
    }
    a.sum += d;
    a.n++;
    a.min = Math.min(a.min, d);
    a.max = Math.max(a.max, d);
    if (e.cost_usd !== null && e.cost_usd > 0) a.cost += e.cost_usd;
    const half = e.ts_epoch < split ? a.older : a.newer;
    half.sum += d;
    half.n++;
  }
  const stages = [...sortedRecordEntries(acc)].map(([name, a]) => {
    const overall = a.sum / a.n;
    const older = a.older.n ? a.older.sum / a.older.n : overall;
    const newer = a.newer.n ? a.newer.sum / a.newer.n : overall;
    return {
      name,
      avgDuration: Math.round(overall),
      minDuration: a.min,
      maxDuration: a.max,
      count: a.n,
      cost: round2(a.cost),
      trend: older === 0 ? 0 : Math.round(((newer - older) / older) * 100),
    };
  });
  return { stages };
}

function sortedRecordEntries<V>(m: Map<string, V>): [string, V][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface Bottlenecks {
  bottlenecks: { stage: string; avgDuration: number; count: number; impact: 'high' | 'medium' | 'low' }[];
}

/** Counted and summed per stage by the backend, so the rollups answer the window's whole days. */
export function bottlenecks(src: EventSource, o: Omit<MetricOptions, 'period'> = {}): Bottlenecks {
  const r = resolve(src, o, 7);
  const groups = src.groups({ streams: r.streams, types: ['stage.completed'], since: r.now - 7 * DAY, upTo: r.now, by: ['stage'], sum: 'duration_s' });
  const rows = groups.filter((g) => g.keys[0] !== null).map((g) => {
    const avgDuration = Math.round(mean(g.sum, g.count));
    const impact: 'high' | 'medium' | 'low' = avgDuration > 600 ? 'high' : avgDuration > 300 ? 'medium' : 'low';
    return { stage: g.keys[0] as string, avgDuration, count: g.count, impact };
  });
  rows.sort((x, y) => y.avgDuration - x.avgDuration || (x.stage < y.stage ? -1 : x.stage > y.stage ? 1 : 0));
  return { bottlenecks: rows.slice(0, 5) };
}

export interface FailureHeatmap {
  heatmap: Record<string, Record<string, number>>;
}

/** stage.failed by stage x UTC date over all time; counted by the backend (an aggregate, pushed into SQL). */
export function failureHeatmap(src: EventSource, o: Omit<MetricOptions, 'period'> = {}): FailureHeatmap {
  const r = resolve(src, o, 0);
  const byStage = new Map<string, Map<string, number>>();
  for (const g of src.groups({ streams: r.streams, types: ['stage.failed'], upTo: r.now, timed: true, by: ['stage', 'date'] })) {
    const stage = (g.keys[0] as string | null) ?? 'unknown';
    const date = g.keys[1] as string;
    const m = byStage.get(stage) ?? new Map<string, number>();
    m.set(date, (m.get(date) ?? 0) + g.count);
    byStage.set(stage, m);
  }
  return { heatmap: sortedRecord(new Map([...byStage].map(([s, m]) => [s, sortedRecord(m)]))) };
}
