import { MirrorError } from '../errors.js';
import type { IssueEventsOptions } from '../metrics/issue-events.js';
import type { MirrorStatus } from '../ops/status.js';
import type { Reader } from '../read/reader.js';
import type { Query } from './params.js';

/** What a route may read: the server's one long-lived reader and the mirror's status. */
export interface RouteContext {
  reader: Reader;
  status(): MirrorStatus;
  health(): unknown;
}

export interface ApiRoute {
  /** The query parameters it accepts (besides the auth layer's `token`). */
  params: readonly string[];
  /** The helper's options, resolved (`now` included): with the mirror's state, they decide the answer. */
  options(q: Query, arg: string | undefined): Record<string, unknown>;
  run(ctx: RouteContext, o: Record<string, unknown>): unknown;
  /** false: answered afresh each time (cheap, and about the server itself). */
  cached?: boolean;
}

function issueNumber(s: string): number {
  if (!/^-?\d{1,15}$/.test(s)) throw new MirrorError('INVALID_ARGUMENT', `/api/events/ takes an issue number, got "${s.slice(0, 40)}"`);
  return Number(s);
}

const WINDOWED = ['period', 'now', 'stream'] as const;
const windowed = (q: Query) => ({ period: q.period(), now: q.now(), streams: q.streams() });
const timed = (q: Query) => ({ now: q.now(), streams: q.streams() });

/**
 * The JSON API: Shipwright's dashboard paths and parameters where it has
 * them, each answered by exactly one reader helper (METRICS.md shapes).
 */
export const API: Record<string, ApiRoute> = {
  '/api/metrics/history': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.metricsHistory(o) },
  '/api/metrics/dora': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.doraGrades(o) },
  '/api/metrics/dora-trend': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.doraTrend(o) },
  '/api/metrics/stage-performance': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.stagePerformance(o) },
  '/api/metrics/bottlenecks': { params: ['now', 'stream'], options: timed, run: (c, o) => c.reader.bottlenecks(o) },
  '/api/metrics/failure-heatmap': { params: ['now', 'stream'], options: timed, run: (c, o) => c.reader.failureHeatmap(o) },
  '/api/metrics/throughput-trend': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.throughputTrend(o) },
  '/api/costs/breakdown': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.costBreakdown(o) },
  '/api/costs/trend': { params: WINDOWED, options: windowed, run: (c, o) => c.reader.costTrend(o) },
  '/api/activity': {
    params: ['limit', 'offset', 'cursor', 'type', 'issue', 'now', 'stream'],
    options: (q) => {
      const streams = q.streams();
      if (streams && streams.length > 1) throw new MirrorError('INVALID_ARGUMENT', 'the activity feed reads one stream; give stream once');
      return {
        limit: q.int('limit', 1), offset: q.int('offset', 0), cursor: q.string('cursor'), type: q.string('type'),
        issue: q.int('issue', 0), now: q.now(), stream: streams?.[0],
      };
    },
    run: (c, o) => c.reader.activity(o),
  },
  '/api/costs/today': { params: ['now'], options: (q) => ({ now: q.now() }), run: (c, o) => c.reader.costToday(o) },
  // Shipwright returns the timeline as a bare array.
  '/api/timeline': {
    params: ['range', 'now', 'stream'],
    options: (q) => ({ range: q.hours('range'), now: q.now(), streams: q.streams() }),
    run: (c, o) => c.reader.timeline(o).timeline,
  },
  // Shipwright answers {events}; the issue is in the path.
  '/api/events/:issue': {
    params: ['now', 'stream'],
    options: (q, issue) => ({ issue: issueNumber(issue!), now: q.now(), streams: q.streams() }),
    run: (c, o) => ({ events: c.reader.issueEvents(o as unknown as IssueEventsOptions).events }),
  },
  '/api/status': { params: [], options: () => ({}), run: (c) => c.status() },
  '/api/health': { params: [], options: () => ({}), run: (c) => c.health(), cached: false },
};

/** `/api/events/42` and its kind: the one route with a path parameter. */
export function matchRoute(path: string): { route: ApiRoute; arg?: string } | undefined {
  const route = API[path];
  if (route && !path.includes(':')) return { route };
  const m = /^\/api\/events\/([^/]+)$/.exec(path);
  if (m && API['/api/events/:issue']) return { route: API['/api/events/:issue'], arg: m[1] };
  return undefined;
}
