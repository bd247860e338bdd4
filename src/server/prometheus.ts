import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MirrorStatus } from '../ops/status.js';

/** What one scrape reports, taken once per scrape so that every series describes the same moment. */
export interface ScrapeState {
  /** Undefined: there is no usable mirror (the reason is in /api/health). */
  status: MirrorStatus | undefined;
  tailerUp: boolean;
  /** Epoch seconds the mirror's database last changed, or null without one. */
  lastCommit: number | null;
}

/**
 * GET /metrics in the Prometheus text format (prom-client): the mirror's rows,
 * rejects and lag per stream, the tailer, the last commit, and the server's
 * own requests. One registry per server, so two servers in one process
 * report apart.
 */
export class ServerMetrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'code'>;
  private readonly latency: Histogram<'route'>;
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<string, { observe(v: number): void }>();
  private state: ScrapeState = { status: undefined, tailerUp: false, lastCommit: null };

  constructor(host: string, private readonly scrape: () => ScrapeState) {
    const registers = [this.registry];
    const perStream = (name: string, help: string, value: (f: MirrorStatus['files'][number]) => number, merge: (a: number, b: number) => number) =>
      new Gauge({
        name, help, labelNames: ['host', 'stream'], registers,
        collect: () => {
          const g = this.registry.getSingleMetric(name) as Gauge<'host' | 'stream'>;
          g.reset();
          const by = new Map<string, number>();
          for (const f of this.state.status?.files ?? []) by.set(f.stream, merge(by.get(f.stream) ?? 0, value(f)));
          for (const [stream, v] of by) g.set({ host, stream }, v);
        },
      });
    const sum = (a: number, b: number) => a + b;
    perStream('jsonl_mirror_rows', 'Events the mirror holds, per stream (every generation, history included).', (f) => f.rows, sum);
    perStream('jsonl_mirror_rejects', 'Lines recorded as rejects (malformed, not an object, too long), per stream.', (f) => f.rejects, sum);
    perStream('jsonl_mirror_lag_bytes', 'Bytes of the stream\'s files not mirrored yet.', (f) => f.behindBytes, sum);
    perStream('jsonl_mirror_lag_seconds', 'Seconds the stream\'s oldest unmirrored bytes can have waited (0 when caught up).', (f) => f.behindSeconds, Math.max);
    const single = (name: string, help: string, value: () => number | null) =>
      new Gauge({
        name, help, labelNames: ['host'], registers,
        collect: () => {
          const g = this.registry.getSingleMetric(name) as Gauge<'host'>;
          g.reset();
          const v = value();
          if (v !== null) g.set({ host }, v);
        },
      });
    single('jsonl_mirror_up', '1 when the mirror can be read, else 0 (/api/health says why).', () => (this.state.status ? 1 : 0));
    single('jsonl_mirror_tailer_up', '1 when a tailer follows the logs (this server\'s or another process\'s), else 0.', () => (this.state.tailerUp ? 1 : 0));
    single('jsonl_mirror_last_commit_timestamp_seconds', 'When the mirror\'s database last changed (its file or its WAL), epoch seconds.', () => this.state.lastCommit);
    this.requests = new Counter({ name: 'jsonl_mirror_http_requests_total', help: 'HTTP requests answered, by route and status code.', labelNames: ['route', 'code'], registers });
    this.latency = new Histogram({
      name: 'jsonl_mirror_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route (the live feed, which stays open, is not timed).',
      labelNames: ['route'], registers, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts a finished request under its route (routeLabel: a fixed set); `seconds` undefined for the live feed. */
  observe(route: string, code: number, seconds: number | undefined): void {
    // A request's cost: the children are looked up once per route, not hashed from their labels every time.
    const key = `${route} ${code}`;
    let count = this.counted.get(key);
    if (!count) this.counted.set(key, (count = this.requests.labels(route, String(code))));
    count.inc();
    if (seconds === undefined) return;
    let time = this.timed.get(route);
    if (!time) this.timed.set(route, (time = this.latency.labels(route)));
    time.observe(seconds);
  }

  async text(): Promise<string> {
    this.state = this.scrape();
    return this.registry.metrics();
  }
}
