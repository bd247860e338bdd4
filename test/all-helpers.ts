import type { Reader } from '../src/api/reader.js';

// No test framework here: a Bun script (test/bun/) runs this too, to compare its answers with Node's.

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
