import type { EventSource } from '../read/source.js';
import { daysEnding, resolve, round2, startOfDays, type MetricOptions } from './common.js';

export interface ThroughputTrend {
  daily: { date: string; throughput: number }[];
}

/** Successful completions per UTC day, per hour (count / 24); counted by the backend. */
export function throughputTrend(src: EventSource, o: MetricOptions = {}): ThroughputTrend {
  const r = resolve(src, o, 30);
  const days = daysEnding(r.now, r.period);
  const counts = new Map<string, number>(days.map((d) => [d, 0]));
  const groups = src.groups({
    streams: r.streams, types: ['pipeline.completed'], since: startOfDays(r.now, r.period), upTo: r.now, timed: true, by: ['date', 'success'],
  });
  for (const g of groups) {
    const day = g.keys[0] as string;
    if (g.keys[1] === 1 && counts.has(day)) counts.set(day, counts.get(day)! + g.count);
  }
  return { daily: days.map((date) => ({ date, throughput: round2(counts.get(date)! / 24) })) };
}
