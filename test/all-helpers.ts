import { METRICS, type MetricHelpers, type MetricKey } from '../src/api/metric-list.js';
import type { Reader } from '../src/api/reader.js';

// No test framework here: a Bun script (test/bun/) runs this too, to compare its answers with Node's.

/**
 * The parity cases: for every metric of the list, the options it is asked
 * with. The type requires an entry per metric, and allHelpers walks the
 * list itself, so a new metric cannot be left out of parity.
 */
export type ParityCases = { [K in MetricKey]: NonNullable<Parameters<MetricHelpers[K]>[0]>[] };

/** The cases of the SQLite, scan and Bun parity tests: windows, ties and pagination. */
export function defaultCases(now: number): ParityCases {
  return {
    activity: [{ limit: 7 }, { limit: 7, now }, { type: 'stage', limit: 5, offset: 2, now }, { issue: 2 }],
    costBreakdown: [{ now }, { now, period: 30 }, { now, streams: ['events', 'costs'] }],
    costTrend: [{ now }],
    doraGrades: [{ now }, { now, period: 3 }],
    doraTrend: [{ now }],
    stagePerformance: [{ now }, { now, period: 4 }],
    bottlenecks: [{ now }],
    failureHeatmap: [{ now }],
    throughputTrend: [{ now }],
    metricsHistory: [{ now }, { now, gradeUnrounded: true }],
    costToday: [{ now }],
    timeline: [{ now }, { now, range: 3 }],
    issueEvents: [{ issue: 2, now }, { issue: 3, now: now - 86400 }],
    patrol: [{ now }, { now: now - 5 * 86400 }],
  };
}

/** The metrics of the list with a parity case missing, or cases for no metric of the list. */
export function uncoveredMetrics(cases: Record<string, unknown[]>): string[] {
  const listed = Object.keys(METRICS);
  const missing = listed.filter((k) => !cases[k]?.length).map((k) => `${k}: no parity case`);
  const unknown = Object.keys(cases).filter((k) => !listed.includes(k)).map((k) => `${k}: not a metric of the list`);
  return [...missing, ...unknown];
}

/** Every metric of the list asked every case; an activity page without its cursor, which is each backend's own. */
export function allHelpers(r: Reader, now: number, cases: ParityCases = defaultCases(now)): Record<string, unknown> {
  const problems = uncoveredMetrics(cases);
  if (problems.length > 0) throw new Error(`parity cases do not cover the metric list: ${problems.join('; ')}`);
  const answers: Record<string, unknown> = {};
  for (const key of Object.keys(METRICS) as MetricKey[]) {
    const helper = r[key] as (o: unknown) => unknown;
    cases[key].forEach((options, i) => {
      const answer = helper.call(r, options);
      if (key === 'activity') {
        const { events, total, hasMore } = answer as ReturnType<Reader['activity']>;
        answers[`${key} ${i}`] = { events, total, hasMore };
      } else {
        answers[`${key} ${i}`] = answer;
      }
    });
  }
  return answers;
}
