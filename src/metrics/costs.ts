import { COSTS_STREAM } from '../model/streams.js';
import type { EventSource } from '../read/source.js';
import { daysEnding, percent, resolveNow, resolve, round2, sortedRecord, startOfDays, DAY, type MetricOptions } from './common.js';

const COST_TYPES = ['pipeline.cost', 'cost.record'];

/**
 * The breakdown and the trend read stream `events` by default, as the
 * dashboard does (both event types: known quirk, each spend counts twice);
 * the costs.json entries (stream `costs`) only when a caller names it.
 */
function costStreams(streams: string[] | undefined): string[] {
  return streams ?? ['events'];
}

export interface CostBreakdown {
  byStage: Record<string, number>;
  byModel: Record<string, number>;
  byIssue: Record<string, number>;
  total: number;
}

/**
 * Costs of the window summed by the backend per (stage, model) and per
 * issue: two grouped reads, each of which a rollup answers for whole days
 * (day_totals and issue_costs); folded and rounded here.
 */
export function costBreakdown(src: EventSource, o: MetricOptions = {}): CostBreakdown {
  const r = resolve(src, { ...o, streams: costStreams(o.streams) }, 7);
  const byStage = new Map<string, number>();
  const byModel = new Map<string, number>();
  const byIssue = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const q = { streams: r.streams, types: COST_TYPES, since: r.now - r.period * DAY, upTo: r.now, sum: 'cost' as const, prices: r.config };
  for (const g of src.groups({ ...q, by: ['stage', 'model'] })) {
    const [stage, model] = g.keys;
    add(byStage, (stage as string | null) ?? 'unknown', g.sum);
    add(byModel, (model as string | null) ?? 'unknown', g.sum);
    total += g.sum;
  }
  for (const g of src.groups({ ...q, by: ['issue'] })) {
    const issue = g.keys[0];
    if (issue !== null && issue !== 0) add(byIssue, String(issue), g.sum);
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
    streams: r.streams, types: COST_TYPES, since: startOfDays(r.now, r.period), upTo: r.now, timed: true, by: ['date'], sum: 'cost', prices: r.config,
  });
  for (const g of groups) {
    const day = g.keys[0] as string;
    if (byDay.has(day)) byDay.set(day, byDay.get(day)! + g.sum);
  }
  return { daily: days.map((date) => ({ date, cost: round2(byDay.get(date)!) })) };
}

export interface CostTodayOptions {
  /** Epoch seconds (default: now). */
  now?: number;
}

export interface CostToday {
  today_spent: number;
  daily_budget: number;
  pct_used: number;
}

/**
 * Today's spend from the costs.json entries (stream `costs`) against the daily
 * budget (docs/metrics.md helper 11): the positive `cost_usd` alone, never priced
 * from tokens, as the dashboard sums it.
 */
export function costToday(src: EventSource, dailyBudget: number, o: CostTodayOptions = {}): CostToday {
  const now = resolveNow(o.now);
  let spent = 0;
  for (const e of src.events({ streams: [COSTS_STREAM], types: COST_TYPES, since: startOfDays(now, 1), upTo: now, fields: ['ts_epoch', 'cost_usd'] })) {
    if (e.cost_usd !== null && e.cost_usd > 0) spent += e.cost_usd;
  }
  const today = round2(spent);
  return { today_spent: today, daily_budget: dailyBudget, pct_used: dailyBudget > 0 ? percent(today, dailyBudget) : 0 };
}
