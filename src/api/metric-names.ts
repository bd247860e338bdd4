/**
 * Each metric's CLI name and one-line help, apart from its code, so that
 * `--help` and shell completion list the metrics without loading them;
 * ./metric-list.ts gives every entry here its options, helper, view and route.
 */
export const METRIC_LABELS = {
  doraGrades: { name: 'dora', help: 'DORA grades (period 7)' },
  doraTrend: { name: 'dora-trend', help: 'weekly DORA grades (period 30)' },
  costBreakdown: { name: 'costs', help: 'cost by stage, model and issue (period 7)' },
  costTrend: { name: 'cost-trend', help: 'cost per UTC day (period 30)' },
  stagePerformance: { name: 'stages', help: 'stage performance (period 7)' },
  bottlenecks: { name: 'bottlenecks', help: 'the 5 slowest stages of the last 7 days' },
  failureHeatmap: { name: 'heatmap', help: 'stage.failed per stage and UTC day, all time' },
  throughputTrend: { name: 'throughput', help: 'successful completions per hour, per UTC day (period 30)' },
  metricsHistory: { name: 'history', help: 'all-time totals, last 7 days, DORA grades' },
  costToday: { name: 'cost-today', help: "today's spend from costs.json against budget.json's daily_budget_usd" },
  timeline: { name: 'timeline', help: 'stage segments per issue over the last --range hours (default 24)' },
  issueEvents: { name: 'issue-events', help: 'every event of --issue N, oldest first' },
  patrol: { name: 'patrol', help: 'the last 50 patrol findings and the last 20 patrol runs, oldest first' },
  activity: { name: 'activity', help: 'the newest events (--type, --issue, --limit, --offset, --cursor)' },
} as const;

export type MetricKey = keyof typeof METRIC_LABELS;

export const METRIC_KEYS = Object.keys(METRIC_LABELS) as MetricKey[];

/** The metrics by their CLI name, from the one list. */
export const METRIC_BY_NAME = new Map<string, MetricKey>(METRIC_KEYS.map((k) => [METRIC_LABELS[k].name, k]));

/** The metric names, for help and completion. */
export const METRIC_NAMES = [...METRIC_BY_NAME.keys()];
