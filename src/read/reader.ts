import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isMirrorError, MirrorError } from '../errors.js';
import type { IngestOptions } from '../ingest/options.js';
import { openStore, translateOpenError, type SqliteStore, type Store } from '../store/open.js';
import { isBrokenDb } from '../store/quarantine.js';
import { activityFeed, type ActivityFeed, type ActivityOptions } from '../metrics/activity.js';
import type { MetricOptions } from '../metrics/common.js';
import { DEFAULT_CONFIG, type MetricsConfig } from '../metrics/config.js';
import { costBreakdown, costToday, costTrend, type CostToday, type CostTodayOptions } from '../metrics/costs.js';
import { doraGrades, doraTrend } from '../metrics/dora.js';
import { metricsHistory } from '../metrics/history.js';
import { bottlenecks, failureHeatmap, stagePerformance } from '../metrics/stages.js';
import { issueEvents, type IssueEvents, type IssueEventsOptions } from '../metrics/issue-events.js';
import { throughputTrend } from '../metrics/throughput.js';
import { timeline, type Timeline, type TimelineOptions } from '../metrics/timeline.js';
import { readDailyBudget } from './budget.js';
import { FreshSqliteSource, MirrorBehind } from './fresh-source.js';
import { PgSource } from './pg-source.js';
import { isPgUrl, openPgStore } from '../store/pg/open.js';
import { ScanSource } from './scan-source.js';
import type { EventSource } from './source.js';

export type SourceChoice = 'auto' | 'sqlite' | 'scan';

export interface ReaderOptions {
  /** The log directory. */
  dir: string;
  /** The mirror (default DIR/mirror.db). */
  db?: string;
  /** auto (default): SQLite when the mirror is usable, else the files. */
  source?: SourceChoice;
  /** Prices and DORA bands (default: METRICS.md's). */
  config?: MetricsConfig;
  /** Line rules shared with the ingest (line limit, grace period). */
  ingest?: IngestOptions;
  /** Told once why `auto` reads the files instead of SQLite. */
  onFallback?: (reason: string) => void;
  /** Told about an input a helper had to do without (a malformed budget.json). */
  onProblem?: (message: string) => void;
  /** Busy timeout for the read's catch-up, ms (default 250): a long import does not stall reads. */
  busyTimeoutMs?: number;
  /** With a postgres:// db: only this host's events (default: every host). */
  host?: string;
  /**
   * auto: how far behind (seconds) a mirror that cannot catch up may answer
   * (default 0: it must catch up, else the files answer). sqlite always answers.
   */
  maxLagSeconds?: number;
}

/** Every helper in METRICS.md, answered by whichever backend the reader chose. */
export interface Reader {
  readonly backend: 'sqlite' | 'scan' | 'postgres';
  /** Why auto is scanning, or null. */
  readonly fallbackReason: string | null;
  /** After a SQLite read that could not catch up: bytes of the files not yet mirrored. */
  readonly lagBytes: number;
  /** ... and for how many seconds at most they have been waiting. */
  readonly lagSeconds: number;
  /** Which backend answered the last call (auto answers from the files when the mirror is behind). */
  readonly answeredBy: 'sqlite' | 'scan' | 'postgres';
  activity(o?: ActivityOptions): ActivityFeed;
  costBreakdown(o?: MetricOptions): ReturnType<typeof costBreakdown>;
  costTrend(o?: MetricOptions): ReturnType<typeof costTrend>;
  doraGrades(o?: MetricOptions): ReturnType<typeof doraGrades>;
  doraTrend(o?: MetricOptions): ReturnType<typeof doraTrend>;
  stagePerformance(o?: MetricOptions): ReturnType<typeof stagePerformance>;
  bottlenecks(o?: MetricOptions): ReturnType<typeof bottlenecks>;
  failureHeatmap(o?: MetricOptions): ReturnType<typeof failureHeatmap>;
  throughputTrend(o?: MetricOptions): ReturnType<typeof throughputTrend>;
  metricsHistory(o?: MetricOptions): ReturnType<typeof metricsHistory>;
  costToday(o?: CostTodayOptions): CostToday;
  timeline(o?: TimelineOptions): Timeline;
  issueEvents(o: IssueEventsOptions): IssueEvents;
  close(): void;
}

function openForRead(path: string, busyTimeoutMs: number): SqliteStore {
  try {
    return openStore(path, { busyTimeoutMs });
  } catch (err) {
    // A mirror we may not write is still worth reading; it reports its lag.
    if (isMirrorError(err, 'DB_READONLY')) return openStore(path, { readonly: true, busyTimeoutMs });
    throw err;
  }
}

/** No file at the path; a path we may not look at is not absent (opening it says why). */
function absent(path: string): boolean {
  try {
    return !statSync(path, { throwIfNoEntry: false });
  } catch {
    return false;
  }
}

export function createReader(opts: ReaderOptions): Reader {
  const choice = opts.source ?? 'auto';
  const dbPath = opts.db ?? join(opts.dir, 'mirror.db');
  const config = opts.config ?? DEFAULT_CONFIG;
  let store: Store | undefined;
  let fresh: FreshSqliteSource | undefined;
  let fallbackReason: string | null = null;
  const scan = (): ScanSource => new ScanSource(opts.dir, opts.ingest);
  const fallBack = (reason: string): EventSource => {
    fallbackReason = reason;
    opts.onFallback?.(reason);
    store?.close();
    store = undefined;
    fresh = undefined;
    return scan();
  };

  let src: EventSource;
  if (isPgUrl(opts.db) && choice !== 'scan') {
    // The fleet mirror is fed by each host's tailer; a read answers from what the hosts sent.
    const pgStore = openPgStore(opts.db, { readonly: true });
    store = pgStore;
    src = new PgSource(pgStore, opts.host);
  } else if (choice === 'scan') {
    src = scan();
  } else if (choice === 'auto' && absent(dbPath)) {
    src = fallBack(`no mirror at ${dbPath} (run \`jsonl-mirror import\` to create one); reading the files`);
  } else {
    try {
      store = openForRead(dbPath, opts.busyTimeoutMs ?? 250);
      fresh = new FreshSqliteSource(store, opts.dir, opts.ingest, choice === 'auto' ? (opts.maxLagSeconds ?? 0) : Number.POSITIVE_INFINITY);
      src = fresh;
    } catch (err) {
      if (choice === 'sqlite' || !(err instanceof MirrorError)) throw err;
      src = fallBack(`${err.message}; reading the files instead`);
    }
  }

  let answeredBy: 'sqlite' | 'scan' | 'postgres' = src.kind;
  /**
   * Runs one helper; a mirror found broken mid-read sends `auto` to the files
   * for good, one that cannot catch up for this call.
   */
  function run<T>(fn: (s: EventSource) => T): T {
    fresh?.beginRead();
    answeredBy = src.kind;
    try {
      return fn(src);
    } catch (err) {
      if (err instanceof MirrorBehind) {
        fallbackReason = err.message;
        opts.onFallback?.(err.message);
        answeredBy = 'scan';
        return fn(scan());
      }
      if (choice !== 'auto' || src.kind !== 'sqlite' || !isBrokenDb(err)) throw err;
      src = fallBack(`${(translateOpenError(err, dbPath) as Error).message}; reading the files instead`);
      answeredBy = src.kind;
      return fn(src);
    }
  }
  const withConfig = (o: MetricOptions = {}): MetricOptions => ({ config, ...o });

  return {
    get backend() {
      return src.kind;
    },
    get fallbackReason() {
      return fallbackReason;
    },
    get lagBytes() {
      return fresh?.lagBytes ?? 0;
    },
    get lagSeconds() {
      return fresh?.lagSeconds ?? 0;
    },
    get answeredBy() {
      return answeredBy;
    },
    activity: (o) => run((s) => activityFeed(s, o)),
    costBreakdown: (o) => run((s) => costBreakdown(s, withConfig(o))),
    costTrend: (o) => run((s) => costTrend(s, withConfig(o))),
    doraGrades: (o) => run((s) => doraGrades(s, withConfig(o))),
    doraTrend: (o) => run((s) => doraTrend(s, withConfig(o))),
    stagePerformance: (o) => run((s) => stagePerformance(s, withConfig(o))),
    bottlenecks: (o) => run((s) => bottlenecks(s, withConfig(o))),
    failureHeatmap: (o) => run((s) => failureHeatmap(s, withConfig(o))),
    throughputTrend: (o) => run((s) => throughputTrend(s, withConfig(o))),
    metricsHistory: (o) => run((s) => metricsHistory(s, withConfig(o))),
    costToday: (o) => run((s) => costToday(s, readDailyBudget(opts.dir, opts.onProblem), { config, ...o })),
    timeline: (o) => run((s) => timeline(s, o)),
    issueEvents: (o) => run((s) => issueEvents(s, o)),
    close: () => store?.close(),
  };
}
