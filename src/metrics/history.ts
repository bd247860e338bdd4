import type { EventSource } from '../read/source.js';
import { daysEnding, mean, percent, resolve, round0, round2, sortedRecord, startOfDays, DAY, type MetricOptions } from './common.js';
import { doraGrades, type DoraGrades } from './dora.js';

export interface MetricsHistory {
  success_rate: number;
  avg_duration_s: number;
  throughput_per_hour: number;
  total_completed: number;
  total_failed: number;
  stage_durations: Record<string, number>;
  daily_counts: { date: string; completed: number; failed: number }[];
  dora_grades: DoraGrades;
}

/**
 * Every count comes from the backend's group counts (pushed into SQL, and
 * into the rollups for whole days: fetching every completion would be the
 * slow part). "completed" counts successful completions, "failed" the rest.
 */
export function metricsHistory(src: EventSource, o: MetricOptions = {}): MetricsHistory {
  const r = resolve(src, o, 7);
  let succeeded = 0;
  let failed = 0;
  let successDuration = 0;
  for (const g of src.groups({ streams: r.streams, types: ['pipeline.completed'], upTo: r.now, by: ['success'], sum: 'duration_s' })) {
    if (g.keys[0] === 1) {
      succeeded += g.count;
      successDuration += g.sum;
    } else {
      failed += g.count;
    }
  }
  const stageDurations = new Map<string, number>();
  for (const g of src.groups({ streams: r.streams, types: ['stage.completed'], upTo: r.now, by: ['stage'], sum: 'duration_s' })) {
    if (g.keys[0] !== null) stageDurations.set(g.keys[0] as string, round0(mean(g.sum, g.count)));
  }
  const days = daysEnding(r.now, 7);
  const daily = new Map(days.map((d) => [d, { date: d, completed: 0, failed: 0 }]));
  const pipelines = { streams: r.streams, types: ['pipeline.completed'], upTo: r.now, timed: true };
  for (const g of src.groups({ ...pipelines, since: startOfDays(r.now, 7), by: ['date', 'success'] })) {
    const d = daily.get(g.keys[0] as string);
    if (d && g.keys[1] === 1) d.completed += g.count;
    else if (d) d.failed += g.count;
  }
  let lastDay = 0;
  for (const g of src.groups({ ...pipelines, since: r.now - DAY, by: ['success'] })) if (g.keys[0] === 1) lastDay += g.count;
  const completions = succeeded + failed;
  return {
    success_rate: completions === 0 ? 0 : percent(succeeded, completions),
    avg_duration_s: round0(mean(successDuration, succeeded)),
    throughput_per_hour: round2(lastDay / 24),
    total_completed: succeeded,
    total_failed: failed,
    stage_durations: sortedRecord(stageDurations),
    daily_counts: [...daily.values()],
    dora_grades: doraGrades(src, { ...o, period: r.period }),
  };
}
