import { MirrorError } from '../errors.js';
import { activityFeed, type ActivityOptions } from '../metrics/activity.js';
import type { MetricOptions } from '../metrics/common.js';
import type { MetricsConfig } from '../metrics/config.js';
import { costBreakdown, costToday, costTrend, type CostTodayOptions } from '../metrics/costs.js';
import { doraGrades, doraTrend, type DoraGrades } from '../metrics/dora.js';
import { metricsHistory } from '../metrics/history.js';
import { patrol, type PatrolOptions } from '../metrics/patrol.js';
import { issueEvents, type IssueEventsOptions } from '../metrics/issue-events.js';
import { bottlenecks, failureHeatmap, stagePerformance } from '../metrics/stages.js';
import { throughputTrend } from '../metrics/throughput.js';
import { timeline, type TimelineOptions } from '../metrics/timeline.js';
import type { EventSource } from '../read/source.js';
import { METRIC_LABELS, type MetricKey } from './metric-names.js';

export { METRIC_KEYS, type MetricKey } from './metric-names.js';

/** Everything a metric may be asked with, from the CLI's flags or an HTTP query; each metric takes what it reads. */
export interface MetricArgs {
  period?: number;
  now?: number;
  streams?: string[];
  gradeUnrounded?: boolean;
  range?: number;
  issue?: number;
  type?: string;
  limit?: number;
  offset?: number;
  cursor?: string;
}

/** What the reader provides to every metric besides the events. */
export interface MetricContext {
  config: MetricsConfig;
  /** budget.json's daily_budget_usd (0 when absent), read when a metric asks. */
  dailyBudget(): number;
}

/** How a person reads a result: tables and lines, in order. */
export type View = (string | { head: string[]; rows: (string | number | null)[][] })[];

/** The HTTP query parameters a metric may accept; the server knows how to read each. */
export type HttpParam = 'period' | 'now' | 'stream' | 'range' | 'limit' | 'offset' | 'cursor' | 'type' | 'issue';

export interface Metric<O, R> {
  /** `jsonl-mirror metrics NAME`. */
  readonly name: string;
  readonly help: string;
  /** The metric's options out of whatever was asked. */
  readonly options: (a: MetricArgs) => O;
  readonly run: (src: EventSource, o: O | undefined, ctx: MetricContext) => R;
  readonly view: (r: R) => View;
  /** A list's columns as --csv/--tsv print them, so that an empty list still has its header. */
  readonly columns?: readonly string[];
  /** Served at `path` (`:issue` takes the issue from the path), answering `reply(result)` (default: the result). */
  readonly http: { path: string; params: readonly HttpParam[]; reply?: (r: R) => unknown };
}

const metric = <O, R>(key: MetricKey, m: Omit<Metric<O, R>, 'name' | 'help'>): Metric<O, R> => ({ ...METRIC_LABELS[key], ...m });

const windowed = (a: MetricArgs): MetricOptions => ({ period: a.period, now: a.now, streams: a.streams, gradeUnrounded: a.gradeUnrounded });
const timed = (a: MetricArgs): Omit<MetricOptions, 'period'> => ({ now: a.now, streams: a.streams, gradeUnrounded: a.gradeUnrounded });
const WINDOWED: readonly HttpParam[] = ['period', 'now', 'stream'];
const TIMED: readonly HttpParam[] = ['now', 'stream'];
const configured = <T>(o: T | undefined, c: MetricContext): T & { config: MetricsConfig } => ({ config: c.config, ...(o as T) });
const str = (v: unknown): string => String(v ?? '');

const DORA_KEYS = ['deploy_freq', 'lead_time', 'cfr', 'mttr'] as const;
const doraTable = (g: DoraGrades) => ({ head: ['metric', 'value', 'unit', 'grade'], rows: DORA_KEYS.map((k) => [k, g[k].value, g[k].unit, g[k].grade]) });
const pairs = (head: string[], o: Record<string, number>) => ({ head, rows: Object.entries(o) });

/**
 * Every helper of docs/metrics.md, once: the reader, the CLI's `metrics` command,
 * the HTTP API and the public API all derive from this list, so a new metric
 * is its own file in src/metrics/ plus one entry here and its name in
 * ./metric-names.ts.
 */
export const METRICS = {
  doraGrades: metric('doraGrades', {
    options: windowed,
    run: (s, o, c) => doraGrades(s, configured(o, c)),
    view: (x) => [doraTable(x)],
    http: { path: '/api/metrics/dora', params: WINDOWED },
  }),
  doraTrend: metric('doraTrend', {
    options: windowed,
    run: (s, o, c) => doraTrend(s, configured(o, c)),
    view: (x) => [{
      head: ['week', 'deploys/day', 'lead time h', 'CFR %', 'MTTR h'],
      rows: x.weeks.map((w) => [w.week, ...DORA_KEYS.map((k) => `${w.grades[k].value} ${w.grades[k].grade}`)]),
    }],
    http: { path: '/api/metrics/dora-trend', params: WINDOWED },
  }),
  costBreakdown: metric('costBreakdown', {
    options: windowed,
    run: (s, o, c) => costBreakdown(s, configured(o, c)),
    view: (x) => [`total $${x.total}`, pairs(['byStage', 'USD'], x.byStage), pairs(['byModel', 'USD'], x.byModel), pairs(['byIssue', 'USD'], x.byIssue)],
    http: { path: '/api/costs/breakdown', params: WINDOWED },
  }),
  costTrend: metric('costTrend', {
    columns: ['date', 'cost'],
    options: windowed,
    run: (s, o, c) => costTrend(s, configured(o, c)),
    view: (x) => [{ head: ['date', 'USD'], rows: x.daily.map((d) => [d.date, d.cost]) }],
    http: { path: '/api/costs/trend', params: WINDOWED },
  }),
  stagePerformance: metric('stagePerformance', {
    columns: ['name', 'avgDuration', 'minDuration', 'maxDuration', 'count', 'cost', 'trend'],
    options: windowed,
    run: (s, o, c) => stagePerformance(s, configured(o, c)),
    view: (x) => [{
      head: ['stage', 'avg s', 'min s', 'max s', 'count', 'USD', 'trend %'],
      rows: x.stages.map((t) => [t.name, t.avgDuration, t.minDuration, t.maxDuration, t.count, t.cost, t.trend]),
    }],
    http: { path: '/api/metrics/stage-performance', params: WINDOWED },
  }),
  bottlenecks: metric('bottlenecks', {
    columns: ['stage', 'avgDuration', 'count', 'impact'],
    options: timed,
    run: (s, o, c) => bottlenecks(s, configured(o, c)),
    view: (x) => [{ head: ['stage', 'avg s', 'count', 'impact'], rows: x.bottlenecks.map((b) => [b.stage, b.avgDuration, b.count, b.impact]) }],
    http: { path: '/api/metrics/bottlenecks', params: TIMED },
  }),
  failureHeatmap: metric('failureHeatmap', {
    options: timed,
    run: (s, o, c) => failureHeatmap(s, configured(o, c)),
    view: (x) => [{
      head: ['stage', 'date', 'failures'],
      rows: Object.entries(x.heatmap).flatMap(([stage, days]) => Object.entries(days).map(([d, n]) => [stage, d, n])),
    }],
    http: { path: '/api/metrics/failure-heatmap', params: TIMED },
  }),
  throughputTrend: metric('throughputTrend', {
    columns: ['date', 'throughput'],
    options: windowed,
    run: (s, o, c) => throughputTrend(s, configured(o, c)),
    view: (x) => [{ head: ['date', 'per hour'], rows: x.daily.map((d) => [d.date, d.throughput]) }],
    http: { path: '/api/metrics/throughput-trend', params: WINDOWED },
  }),
  metricsHistory: metric('metricsHistory', {
    options: windowed,
    run: (s, o, c) => metricsHistory(s, configured(o, c)),
    view: (x) => [
      {
        head: ['metric', 'value'],
        rows: [['success rate %', x.success_rate], ['avg duration s', x.avg_duration_s], ['throughput/hour (24 h)', x.throughput_per_hour],
          ['completed', x.total_completed], ['failed', x.total_failed]],
      },
      pairs(['stage', 'mean s'], x.stage_durations),
      { head: ['date', 'completed', 'failed'], rows: x.daily_counts.map((d) => [d.date, d.completed, d.failed]) },
      doraTable(x.dora_grades),
    ],
    http: { path: '/api/metrics/history', params: WINDOWED },
  }),
  costToday: metric('costToday', {
    options: (a): CostTodayOptions => ({ now: a.now }),
    run: (s, o, c) => costToday(s, c.dailyBudget(), o),
    // No budget is not a budget of $0: the table says it is not set (the JSON keeps docs/metrics.md's 0).
    view: (x) => [{
      head: ['metric', 'value'],
      rows: [['spent today USD', x.today_spent], ...(x.daily_budget > 0
        ? [['daily budget USD', x.daily_budget], ['used %', x.pct_used]]
        : [['daily budget', 'not set (daily_budget_usd in budget.json)']])],
    }],
    http: { path: '/api/costs/today', params: ['now'] },
  }),
  timeline: metric('timeline', {
    options: (a): TimelineOptions => ({ range: a.range, now: a.now, streams: a.streams }),
    run: (s, o) => timeline(s, o),
    view: (x) => [{
      head: ['issue', 'title', 'stage', 'start', 'end', 'status'],
      rows: x.timeline.flatMap((i) => i.segments.map((g) => [i.issue, i.title, g.stage, g.start, g.end ?? '', g.status])),
    }],
    // Shipwright returns the timeline as a bare array.
    http: { path: '/api/timeline', params: ['range', 'now', 'stream'], reply: (x) => x.timeline },
  }),
  issueEvents: metric('issueEvents', {
    options: (a): IssueEventsOptions => {
      if (a.issue === undefined) throw new MirrorError('INVALID_ARGUMENT', 'issue-events needs --issue N (an issue number other than 0)');
      return { issue: a.issue, now: a.now, streams: a.streams };
    },
    run: (s, o) => {
      if (o === undefined) throw new MirrorError('INVALID_ARGUMENT', 'issueEvents needs { issue } (an issue number other than 0)');
      return issueEvents(s, o);
    },
    view: (x) => [{ head: ['ts', 'type', 'stage'], rows: x.events.map((e) => [str(e.ts ?? e.ts_epoch), str(e.type), str(e.stage)]) }],
    // Shipwright answers {events}; the issue is in the path.
    http: { path: '/api/events/:issue', params: ['now', 'stream'], reply: (x) => ({ events: x.events }) },
  }),
  patrol: metric('patrol', {
    options: (a): PatrolOptions => ({ now: a.now, streams: a.streams }),
    run: (s, o) => patrol(s, o),
    view: (x) => [
      { head: ['finding ts', 'check', 'count'], rows: x.findings.map((e) => [str(e.ts ?? e.ts_epoch), str(e.check), str(e.count)]) },
      { head: ['run ts', 'findings', 'issues created', 'dry run'], rows: x.runs.map((e) => [str(e.ts ?? e.ts_epoch), str(e.findings), str(e.issues_created), str(e.dry_run)]) },
    ],
    http: { path: '/api/patrol/recent', params: TIMED },
  }),
  activity: metric('activity', {
    options: (a): ActivityOptions => {
      if (a.streams && a.streams.length > 1) throw new MirrorError('INVALID_ARGUMENT', 'the activity feed reads one stream; give stream once');
      return { limit: a.limit, offset: a.offset, cursor: a.cursor, type: a.type, issue: a.issue, now: a.now, stream: a.streams?.[0] };
    },
    run: (s, o) => activityFeed(s, o),
    view: (x) => [
      { head: ['ts', 'type', 'issue', 'stage'], rows: x.events.map((e) => [str(e.ts ?? e.ts_epoch), str(e.type), str(e.issue), str(e.stage)]) },
      `${x.events.length} of ${x.total}${x.hasMore ? ` (more: --offset or --cursor ${x.nextCursor})` : ''}`,
    ],
    http: { path: '/api/activity', params: ['limit', 'offset', 'cursor', 'type', 'issue', 'now', 'stream'] },
  }),
} as const satisfies Record<MetricKey, unknown>;

type OptionsOf<K extends MetricKey> = ReturnType<(typeof METRICS)[K]['options']>;
type ResultOf<K extends MetricKey> = ReturnType<(typeof METRICS)[K]['run']>;

/** One method per metric, named as in docs/metrics.md: reader.doraGrades({ period: 7 }). */
export type MetricHelpers = { [K in MetricKey]: (o?: OptionsOf<K>) => ResultOf<K> };
