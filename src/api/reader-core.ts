import { statSync } from 'node:fs';
import { join } from 'node:path';
import { useHistoryDir } from '../ingest/layout.js';
import { MirrorError } from '../errors.js';
import type { IngestOptions } from '../ingest/options.js';
import type { Engine, Store } from '../store/api.js';
import { engineEntry, loadEngine } from '../store/engine.js';
import { DEFAULT_CONFIG, type MetricsConfig } from '../metrics/config.js';
import { readDailyBudget } from '../read/budget.js';
import type { FreshSqliteSource } from '../read/fresh-source.js';
import type { EventSource } from '../read/source.js';
import { METRIC_KEYS, METRICS, type MetricArgs, type MetricContext, type MetricHelpers, type MetricKey } from './metric-list.js';

// The reader apart from its backends, which it is handed: ./reader.ts hands it all three (the library's
// createReader), loadReader imports only those its options can use (the CLI: a start that loads neither
// PostgreSQL's modules for a SQLite mirror nor the scan for --source sqlite, issue #24).

/** The backends a reader may use, each a module of its own. */
export interface ReaderBackends {
  sqlite?: typeof import('./reader-sqlite.js');
  pg?: typeof import('./reader-pg.js');
  scan?: typeof import('./reader-scan.js');
  /** The engine of the mirror the options name, loaded (none when only the files are read). */
  engine?: Engine;
}

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
  /** Its answers wait on a database server (the fleet mirror): a server runs them off its event loop (./read-pool.ts). */
  readonly remote: boolean;
  /** Which backend answered the last call (auto answers from the files when the mirror is behind). */
  readonly answeredBy: 'sqlite' | 'scan' | 'postgres';
  /** ts_epoch of the newest event of `streams` (default events), or null when there is none: is the log current? */
  newestEpoch(streams?: string[]): number | null;
  /** The metric `key` asked with `args` (the CLI's flags, an HTTP query): each metric takes the options it reads. */
  ask(key: MetricKey, args: MetricArgs): unknown;
  close(): void;
}

/** No file at the path; a path we may not look at is not absent (opening it says why). */
function absent(path: string): boolean {
  try {
    return !statSync(path, { throwIfNoEntry: false });
  } catch {
    return false;
  }
}

/** The mirror the options name (default DIR/mirror.db). */
export const mirrorOf = (opts: ReaderOptions): string => opts.db ?? join(opts.dir, 'mirror.db');

/**
 * The backends `opts` can use: a fleet's mirror (fed by every host's tailer)
 * as it is, the files for scan (and auto's fallback), otherwise the local
 * mirror the read catches up first.
 */
export function backendsFor(opts: ReaderOptions): { sqlite: boolean; pg: boolean; scan: boolean } {
  const choice = opts.source ?? 'auto';
  const pg = engineEntry(mirrorOf(opts)).fleet && choice !== 'scan';
  return { pg, sqlite: !pg && choice !== 'scan', scan: !pg && choice !== 'sqlite' };
}

/** createReader with only the backends and the engine `opts` can use imported, on first use. */
export async function loadReader(opts: ReaderOptions): Promise<Reader> {
  const want = backendsFor(opts);
  const [sqlite, pg, scan, engine] = await Promise.all([
    want.sqlite ? import('./reader-sqlite.js') : undefined,
    want.pg ? import('./reader-pg.js') : undefined,
    want.scan ? import('./reader-scan.js') : undefined,
    want.sqlite || want.pg ? loadEngine(mirrorOf(opts)) : undefined,
  ]);
  return createReaderWith({ sqlite, pg, scan, engine }, opts);
}

/** A backend `backendsFor` said these options need and the caller did not hand over. */
function need<T>(backend: T | undefined, name: string): T {
  if (backend === undefined) throw new Error(`the reader was created without its ${name} backend`);
  return backend;
}

export function createReaderWith(backends: ReaderBackends, opts: ReaderOptions): Reader {
  useHistoryDir(opts.dir, opts.historyDir);
  const choice = opts.source ?? 'auto';
  const dbPath = mirrorOf(opts);
  const config = opts.config ?? DEFAULT_CONFIG;
  let store: Store | undefined;
  let fresh: FreshSqliteSource | undefined;
  let fallbackReason: string | null = null;
  const scan = (): EventSource => need(backends.scan, 'scan').scanSource(opts.dir, opts.ingest);
  const fallBack = (reason: string): EventSource => {
    fallbackReason = reason;
    opts.onFallback?.(reason);
    store?.close();
    store = undefined;
    fresh = undefined;
    return scan();
  };

  let src: EventSource;
  if (backendsFor(opts).pg) {
    // The fleet mirror is fed by each host's tailer; a read answers from what the hosts sent.
    const pg = need(backends.pg, 'fleet').pgSource(need(backends.engine, 'engine'), dbPath, opts.host);
    store = pg.store;
    src = pg.src;
  } else if (choice === 'scan') {
    src = scan();
  } else if (choice === 'auto' && absent(dbPath)) {
    src = fallBack(`no mirror at ${dbPath} (run \`jsonl-mirror import\` to create one); reading the files`);
  } else {
    const sqlite = need(backends.sqlite, 'SQLite');
    try {
      store = sqlite.openForRead(need(backends.engine, 'engine'), dbPath, opts.busyTimeoutMs ?? 250);
      fresh = new sqlite.FreshSqliteSource(store, opts.dir, opts.ingest, choice === 'auto' ? (opts.maxLagSeconds ?? 0) : Number.POSITIVE_INFINITY);
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
      if (backends.sqlite && err instanceof backends.sqlite.MirrorBehind) {
        fallbackReason = err.message;
        opts.onFallback?.(err.message);
        answeredBy = 'scan';
        return fn(scan());
      }
      const engine = backends.engine;
      if (choice !== 'auto' || src.kind !== 'sqlite' || !engine?.quarantine?.isBroken(err)) throw err;
      src = fallBack(`${(engine.explainError(err, dbPath) as Error).message}; reading the files instead`);
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
    get remote() {
      return src.remote === true;
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
