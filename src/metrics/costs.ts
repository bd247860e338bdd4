import type { EventSource } from '../read/source.js';
import { daysEnding, resolve, round2, sortedRecord, startOfDays, DAY, type MetricOptions } from './common.js';

const COST_TYPES = ['pipeline.cost', 'cost.record'];

/**
 * Cost helpers read the requested streams plus `costs`, where legacy
 * costs.json entries live after `import`, unless told otherwise.
 */
function costStreams(streams: string[] | undefined): string[] {
  return streams ?? ['events', 'costs'];
}

export interface CostBreakdown {
  byStage: Record<string, number>;
  byModel: Record<string, number>;
  byIssue: Record<string, number>;
  total: number;
}

/** Costs of the window summed per (stage, model, issue) by the backend, then folded and rounded here. */
export function costBreakdown(src: EventSource, o: MetricOptions = {}): CostBreakdown {
  const r = resolve(src, { ...o, streams: costStreams(o.streams) }, 7);
  const byStage = new Map<string, number>();
  const byModel = new Map<string, number>();
  const byIssue = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const groups = src.groups({
    streams: r.streams, types: COST_TYPES, since: r.now - r.period * DAY, by: ['stage', 'model', 'issue'], sum: 'cost', prices: r.config,
  });
  for (const g of groups) {
    const [stage, model, issue] = g.keys;
    add(byStage, (stage as string | null) ?? 'unknown', g.sum);
    add(byModel, (model as string | null) ?? 'unknown', g.sum);
    if (issue !== null && issue !== 0) add(byIssue, String(issue), g.sum);
    total += g.sum;
  }
  const rounded = (m: Map<string, number>) => sortedRecord(new Map([...m].map(([k, v]) => [k, round2(v)])));
  return { byStage: rounded(byStage), byModel: rounded(byModel), byIssue: rounded(byIssue), total: round2(total) };
}

export interface CostTrend {
  daily: { date: string; cost: number }[];
}

export function costTrend(src: EventSource, o: MetricOptions = {}): CostTrend {
  const r = resolve(src, { ...o, streams: costStreams(o.streams) }, 30);
  const days = daysEnding(r.now, r.period);
  const byDay = new Map<string, number>(days.map((d) => [d, 0]));
  const groups = src.groups({
    streams: r.streams, types: COST_TYPES, since: startOfDays(r.now, r.period), timed: true, by: ['date'], sum: 'cost', prices: r.config,
  });
  for (const g of groups) {
    const day = g.keys[0] as string;
    if (byDay.has(day)) byDay.set(day, byDay.get(day)! + g.sum);
  }
  return { daily: days.map((date) => ({ date, cost: round2(byDay.get(date)!) })) };
}
