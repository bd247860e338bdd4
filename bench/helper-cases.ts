import type { MetricHelpers, MetricKey } from '../src/api/metric-list.js';
import type { Reader } from '../src/api/reader.js';
import type { IssueEvents } from '../src/metrics/issue-events.js';

/**
 * The helpers the bench times through the library's reader, by metric of
 * src/api/metric-list.ts: the type requires an entry per metric, so a new
 * metric cannot be left out of the pg and scaling sections. Each case is a
 * row label and the options it is asked with.
 */
export type BenchCases = { [K in MetricKey]: [label: string, options: NonNullable<Parameters<MetricHelpers[K]>[0]>][] };

/**
 * The issue the issue-events case looks up: on the generator's logs one of
 * the pool of 400, and with `issueLife` past the first 20 issue numbers,
 * which are open from the start, close first and get fewer pipelines.
 */
export const BENCH_ISSUE = 100;

/** An issue lookup that found nothing would time nothing: the bench stops instead of showing a figure for it. */
export function assertFound(label: string, answer: unknown): void {
  const found = answer as Partial<IssueEvents> | undefined;
  if (found?.issue !== undefined && found.events?.length === 0) {
    throw new Error(`bench: ${label}: issue ${BENCH_ISSUE} has no events in this log; pick an issue it has (bench/helper-cases.ts)`);
  }
}

/** The cases, `now` at the log's end; in this order in the tables. */
export function benchCases(now: number): BenchCases {
  return {
    activity: [['activity (page 1)', { limit: 50, now }], ['activity type=pipeline, offset 5000', { type: 'pipeline', offset: 5000, limit: 50, now }]],
    costBreakdown: [['cost breakdown (7 d)', { now }]],
    costTrend: [['cost trend (30 d)', { now }]],
    doraGrades: [['DORA grades (7 d)', { now }]],
    doraTrend: [['DORA trend (30 d)', { now }]],
    stagePerformance: [['stage performance (7 d)', { now }]],
    bottlenecks: [['bottlenecks', { now }]],
    failureHeatmap: [['failure heatmap (all time)', { now }]],
    throughputTrend: [['throughput trend (30 d)', { now }]],
    metricsHistory: [['metrics history (all time)', { now }]],
    timeline: [['timeline (24 h)', { now }]],
    issueEvents: [['issue events (one issue)', { issue: BENCH_ISSUE, now }]],
    costToday: [['cost today', { now }]],
    patrol: [['patrol (recent)', { now }]],
  };
}

/** Every case as a label and a call on a reader, in the order of benchCases. */
export function readerHelpers(now: number): [string, (r: Reader) => unknown][] {
  const cases = benchCases(now);
  return (Object.keys(cases) as MetricKey[]).flatMap((key) =>
    (cases[key] as [string, unknown][]).map(([label, options]): [string, (r: Reader) => unknown] =>
      [label, (r) => (r[key] as (o: unknown) => unknown).call(r, options)]));
}
