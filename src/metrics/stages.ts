import type { GroupRow } from '../model/query.js';
import type { EventSource } from '../read/source.js';
import { mean, resolve, round0, round2, sortedRecord, DAY, type MetricOptions } from './common.js';

export interface StagePerformance {
  stages: { name: string; avgDuration: number; minDuration: number; maxDuration: number; count: number; cost: number; trend: number }[];
}

/**
 * Per stage, counted, summed and ranged by the backend (the rollups answer
 * the whole days) in two halves: the older one before `split`, the newer
 * one from it, for the trend.
 */
export function stagePerformance(src: EventSource, o: MetricOptions = {}): StagePerformance {
  const r = resolve(src, o, 7);
  const split = r.now - Math.floor(r.period / 2) * DAY;
  const q = { streams: r.streams, types: ['stage.completed'], by: ['stage' as const], sum: 'duration_s' as const, stats: true };
  const older = new Map(src.groups({ ...q, since: r.now - r.period * DAY, until: split }).filter((g) => g.keys[0] !== null).map((g) => [g.keys[0] as string, g]));
  const newer = new Map(src.groups({ ...q, since: split, upTo: r.now }).filter((g) => g.keys[0] !== null).map((g) => [g.keys[0] as string, g]));
  const names = [...new Set([...older.keys(), ...newer.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const stages = names.map((name) => {
    const halves = [older.get(name), newer.get(name)].filter((g) => g !== undefined);
    const n = halves.reduce((a, g) => a + g.count, 0);
    const overall = halves.reduce((a, g) => a + g.sum, 0) / n;
    const avg = (g: GroupRow | undefined) => (g && g.count > 0 ? g.sum / g.count : overall);
    const [was, now] = [avg(older.get(name)), avg(newer.get(name))];
    return {
      name,
      avgDuration: round0(overall),
      minDuration: Math.min(...halves.map((g) => g.min!)),
      maxDuration: Math.max(...halves.map((g) => g.max!)),
      count: n,
      cost: round2(halves.reduce((a, g) => a + g.usd!, 0)),
      trend: was === 0 ? 0 : round0(((now - was) / was) * 100),
    };
  });
  return { stages };
}

export interface Bottlenecks {
  bottlenecks: { stage: string; avgDuration: number; count: number; impact: 'high' | 'medium' | 'low' }[];
}

/** Counted and summed per stage by the backend, so the rollups answer the window's whole days. */
export function bottlenecks(src: EventSource, o: Omit<MetricOptions, 'period'> = {}): Bottlenecks {
  const r = resolve(src, o, 7);
  const groups = src.groups({ streams: r.streams, types: ['stage.completed'], since: r.now - 7 * DAY, upTo: r.now, by: ['stage'], sum: 'duration_s' });
  const rows = groups.filter((g) => g.keys[0] !== null).map((g) => {
    const avgDuration = round0(mean(g.sum, g.count));
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
