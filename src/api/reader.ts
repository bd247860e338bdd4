import { statSync } from 'node:fs';
import { join } from 'node:path';
import { useHistoryDir } from '../ingest/layout.js';
import { isMirrorError, MirrorError } from '../errors.js';
import type { IngestOptions } from '../ingest/options.js';
import { openStore, translateOpenError, type SqliteStore } from '../store/open.js';
import type { Store } from '../store/engine.js';
import { isBrokenDb } from '../store/quarantine.js';
import { DEFAULT_CONFIG, type MetricsConfig } from '../metrics/config.js';
import { readDailyBudget } from '../read/budget.js';
import { FreshSqliteSource, MirrorBehind } from '../read/fresh-source.js';
import { PgSource } from '../read/pg-source.js';
import { isPgUrl, openPgStore } from '../store/pg/open.js';
import { ScanSource } from '../read/scan-source.js';
import type { EventSource } from '../read/source.js';
import { METRIC_KEYS, METRICS, type MetricArgs, type MetricContext, type MetricHelpers, type MetricKey } from './metric-list.js';

export type SourceChoice = 'auto' | 'sqlite' | 'scan';

export interface ReaderOptions {
  /** The log directory. */
  dir: string;
  /** Where logrotate's `olddir` moves this folder's rotated generations (default: the folder's jsonl-mirror.json `historyDir`, else $JSONL_MIRROR_HISTORY_DIR). */
  historyDir?: string;
  /** The mirror (default DIR/mirror.db). */
  db?: string;
  /** auto (default): SQLite when the mirror is usable, else the files. */
  source?: SourceChoice;
  /** Prices and DORA bands (default: docs/metrics.md's). */
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

/** Every helper in docs/metrics.md (one method per entry of ./metric-list.ts), answered by whichever backend the reader chose. */
export interface Reader extends MetricHelpers {
  readonly backend: 'sqlite' | 'scan' | 'postgres';
  /** Why auto is scanning, or null. */
  readonly fallbackReason: string | null;
  /** After a SQLite read that could not catch up: bytes of the files not yet mirrored. */
  readonly lagBytes: number;
  /** ... and for how many seconds at most they have been waiting. */
  readonly lagSeconds: number;
  /** Which backend answered the last call (auto answers from the files when the mirror is behind). */
  readonly answeredBy: 'sqlite' | 'scan' | 'postgres';
  /** ts_epoch of the newest event of `streams` (default events), or null when there is none: is the log current? */
  newestEpoch(streams?: string[]): number | null;
  /** The metric `key` asked with `args` (the CLI's flags, an HTTP query): each metric takes the options it reads. */
  ask(key: MetricKey, args: MetricArgs): unknown;
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
  useHistoryDir(opts.dir, opts.historyDir);
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
  const ctx: MetricContext = { config, dailyBudget: () => readDailyBudget(opts.dir, opts.onProblem) };
  // Each entry's options and result types line up by key; TypeScript cannot follow that through a loop over the keys.
  const helpers = Object.fromEntries(
    METRIC_KEYS.map((k) => [k, (o?: never) => run((s) => METRICS[k].run(s, o, ctx))]),
  ) as MetricHelpers;

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
    ...helpers,
    // The last record alone: the activity feed would also count every event for its total.
    newestEpoch: (streams = ['events']) => run((s) => s.records({ streams, last: 1, fields: ['ts_epoch'] })[0]?.event.ts_epoch ?? null),
    ask: (key, args) => {
      const m = METRICS[key];
      const o = m.options(args);
      return run((s) => m.run(s, o as never, ctx));
    },
    close: () => store?.close(),
  };
}
