import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StreamGauge } from '../ops/stream-gauges.js';

/** What one scrape reports, taken once per scrape so that every series describes the same moment. */
export interface ScrapeState {
  /** Undefined: there is no usable mirror (the reason is in /api/health). */
  streams: StreamGauge[] | undefined;
  tailerUp: boolean;
  /** Epoch seconds the mirror's database last changed, or null without one. */
  lastCommit: number | null;
}

/**
 * Node's process metrics, once per process: prom-client's collectors (an
 * event-loop histogram, a GC observer) cannot be stopped, so one per server
 * would pile up in a process that opens many. Null where the runtime lacks them.
 */
let processRegistry: Registry | null | undefined;
function processMetrics(note: (m: string) => void): Registry | null {
  if (processRegistry !== undefined) return processRegistry;
  try {
    const r = new Registry();
    collectDefaultMetrics({ register: r });
    processRegistry = r;
  } catch (err) {
    note(`/metrics: no process metrics on this runtime (${(err as Error).message})`);
    processRegistry = null;
  }
  return processRegistry;
}

/**
 * GET /metrics in the Prometheus text format (prom-client): the mirror's rows,
 * rejects and lag per stream, the tailer, the last commit, and the server's
 * own requests. One registry per server, so two servers in one process
 * report apart.
 */
export class ServerMetrics {
  private readonly registry = new Registry();
  private readonly process: Registry | null;
  private readonly requests: Counter<'route' | 'code'>;
  private readonly latency: Histogram<'route'>;
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<string, { observe(v: number): void }>();
  private state: ScrapeState = { streams: undefined, tailerUp: false, lastCommit: null };

  constructor(host: string, private readonly scrape: () => ScrapeState, note: (m: string) => void) {
    this.process = processMetrics(note);
    const registers = [this.registry];
    const perStream = (name: string, help: string, value: (g: StreamGauge, now: number) => number) => {
      const g: Gauge<'host' | 'stream'> = new Gauge({
        name, help, labelNames: ['host', 'stream'], registers,
        collect: () => {
          g.reset();
          const now = Date.now();
          for (const s of this.state.streams ?? []) g.set({ host: s.host ?? host, stream: s.stream }, value(s, now));
        },
      });
    };
    perStream('jsonl_mirror_rows', 'Events the mirror holds, per stream (every generation, history included).', (s) => s.rows);
    perStream('jsonl_mirror_rejects', 'Lines recorded as rejects (malformed, not an object, too long), per stream.', (s) => s.rejects);
    perStream('jsonl_mirror_lag_bytes', 'Bytes of the stream\'s files not mirrored yet.', (s) => s.behindBytes);
    perStream('jsonl_mirror_lag_seconds', 'How long the stream\'s oldest unmirrored bytes have waited (since the checkpoint last moved; 0 when caught up).',
      (s, now) => (s.behindSinceMs === null ? 0 : Math.max(0, (now - s.behindSinceMs) / 1000)));
    const single = (name: string, help: string, value: () => number | null) => {
      const g: Gauge<'host'> = new Gauge({
        name, help, labelNames: ['host'], registers,
        collect: () => {
          g.reset();
          const v = value();
          if (v !== null) g.set({ host }, v);
        },
      });
    };
    single('jsonl_mirror_up', '1 when the mirror can be read, else 0 (/api/health says why).', () => (this.state.streams ? 1 : 0));
    single('jsonl_mirror_tailer_up', '1 when a tailer follows the logs (this server\'s or another process\'s), else 0.', () => (this.state.tailerUp ? 1 : 0));
    single('jsonl_mirror_last_commit_timestamp_seconds', 'When the mirror\'s database last changed (its file or its WAL), epoch seconds.', () => this.state.lastCommit);
    this.requests = new Counter({ name: 'jsonl_mirror_http_requests_total', help: 'HTTP requests answered, by route and status code.', labelNames: ['route', 'code'], registers });
    this.latency = new Histogram({
      name: 'jsonl_mirror_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route (the live feed, which stays open, is not timed).',
      labelNames: ['route'], registers, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts a finished request under its route (routeLabel: a fixed set); `seconds` undefined for the live feed. */
  observe(route: string, code: string, seconds: number | undefined): void {
    // A request's cost: the children are looked up once per route, not hashed from their labels every time.
    const key = `${route} ${code}`;
    let count = this.counted.get(key);
    if (!count) this.counted.set(key, (count = this.requests.labels(route, code)));
    count.inc();
    if (seconds === undefined) return;
    let time = this.timed.get(route);
    if (!time) this.timed.set(route, (time = this.latency.labels(route)));
    time.observe(seconds);
  }

  async text(): Promise<string> {
    this.state = this.scrape();
    const own = await this.registry.metrics();
    return this.process ? `${own}\n${await this.process.metrics()}` : own;
  }
}
