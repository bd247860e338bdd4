import { MirrorError } from '../errors.js';
import { METRIC_KEYS, METRICS, type HttpParam, type MetricArgs, type MetricKey } from '../api/metric-list.js';
import type { MirrorStatus } from '../ops/status.js';
import type { Reader } from '../api/reader.js';
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
  /** What the helper is asked, resolved (`now` included): with the mirror's state, it decides the answer. */
  options(q: Query, arg: string | undefined): Record<string, unknown>;
  run(ctx: RouteContext, o: Record<string, unknown>): unknown;
  /** The metric it answers: a server whose reads wait on a database asks it of its read pool instead of `run`. */
  metric?: MetricKey;
  /** false: answered afresh each time (cheap, and about the server itself). */
  cached?: boolean;
}

function issueNumber(s: string): number {
  if (!/^-?\d{1,15}$/.test(s)) throw new MirrorError('INVALID_ARGUMENT', `/api/events/ takes an issue number, got "${s.slice(0, 40)}"`);
  return Number(s);
}

/** How the server reads each parameter a metric may accept. */
const READ_PARAM: Record<HttpParam, (q: Query, a: MetricArgs) => void> = {
  period: (q, a) => { a.period = q.period(); },
  now: (q, a) => { a.now = q.now(); },
  stream: (q, a) => { a.streams = q.streams(); },
  range: (q, a) => { a.range = q.hours('range'); },
  limit: (q, a) => { a.limit = q.int('limit', 1); },
  offset: (q, a) => { a.offset = q.int('offset', 0); },
  cursor: (q, a) => { a.cursor = q.string('cursor'); },
  type: (q, a) => { a.type = q.string('type'); },
  issue: (q, a) => { a.issue = q.int('issue', 0); },
};

/** A metric of the one list as a route: its parameters read, its options resolved, its reply shaped. */
function metricRoute(key: MetricKey): ApiRoute {
  const m = METRICS[key];
  return {
    metric: key,
    params: m.http.params,
    options: (q, arg) => {
      const a: MetricArgs = {};
      for (const p of m.http.params) READ_PARAM[p](q, a);
      if (arg !== undefined) a.issue = issueNumber(arg);
      // Checked here, so a bad request is refused before the cache is consulted.
      m.options(a);
      return { ...a };
    },
    run: (c, o) => {
      const result = c.reader.ask(key, o);
      return m.http.reply ? m.http.reply(result as never) : result;
    },
  };
}

/**
 * The JSON API: Shipwright's dashboard paths and parameters where it has
 * them, each answered by exactly one metric of the list (docs/metrics.md shapes),
 * plus the server's own status and health.
 */
export const API: Record<string, ApiRoute> = {
  ...Object.fromEntries(METRIC_KEYS.map((k) => [METRICS[k].http.path, metricRoute(k)])),
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

/** The route a path asks for as a metrics label: a fixed set, whatever paths clients send. */
export function routeLabel(path: string): string {
  if (path === '/api/stream' || path === '/metrics') return path;
  if (!path.startsWith('/api/')) return 'page';
  const m = matchRoute(path);
  if (!m) return 'unknown';
  return m.arg === undefined ? path : '/api/events/:issue';
}
