import { join } from 'node:path';
import { isMirrorError, MirrorError } from '../errors.js';
import { importLegacyCosts } from '../import/legacy-costs.js';
import { COSTS_STREAM } from '../model/streams.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { activeSources, FollowedFiles } from '../ingest/followed.js';
import { assertDir, historyDirOf, listStreams, useHistoryDir } from '../ingest/layout.js';
import type { IngestOptions } from '../ingest/options.js';
import type { Quarantine, Store } from '../store/api.js';
import { engineOf } from '../store/engines.js';
import { ChangeFeed, type ChangeBatch, type Subscriber } from './feed.js';
import { claimTailer, releaseTailer, runningTailer } from './lock.js';
import { publishNew } from './publish.js';
import { DirScan, streamOf } from './scan.js';
import { tailerStats, type TailerStats } from './stats.js';
import { watchDir, type DirWatch } from './watch.js';

export type { TailerFileStats, TailerStats } from './stats.js';

export interface TailerOptions {
  dir: string;
  /** Where logrotate's `olddir` moves this folder's rotated generations (default: the folder's jsonl-mirror.json `historyDir`, else $JSONL_MIRROR_HISTORY_DIR). */
  historyDir?: string;
  /** The mirror (default DIR/mirror.db); created when missing. */
  db?: string;
  /** Only these streams (default: every stream in the directory, new ones included). */
  streams?: string[];
  /** Watch by polling (network filesystems, no inotify). */
  polling?: boolean;
  /** The fstat safety poll, ms (default 1000); also the polling interval. */
  pollIntervalMs?: number;
  ingest?: IngestOptions;
  /** Errors the tailer survives (it retries); default: one line on stderr. */
  onError?: (err: unknown) => void;
}

export interface Tailer {
  /** Claims the mirror, catches every stream up, then follows them. */
  start(): Promise<void>;
  /** Finishes the batch in flight, stops watching, releases the mirror. */
  stop(): Promise<void>;
  /** Each committed batch of new events (from this tailer or any other writer of the mirror), in log order. */
  subscribe(fn: Subscriber): () => void;
  [Symbol.asyncIterator](): AsyncIterator<ChangeBatch>;
  /** Resolves when nothing is waiting to be ingested. */
  idle(): Promise<void>;
  stats(): TailerStats;
}

function notAFile(db: string): never {
  throw new MirrorError('INVALID_ARGUMENT', `${db} is not a mirror file; a fleet mirror is tailed by the fleet tailer (tail with a postgres:// --db)`);
}

/**
 * The tailer (Fluent Bit's in_tail): claims the mirror, then runs rounds of
 * one ingest batch per stream that a watcher event (./watch.ts) or the stat
 * poll (./scan.ts) marked dirty, and hands what was committed to the feed.
 */
export function createTailer(opts: TailerOptions): Tailer {
  assertDir(opts.dir);
  useHistoryDir(opts.dir, opts.historyDir);
  const dbPath = opts.db ?? join(opts.dir, 'mirror.db');
  const pollMs = opts.pollIntervalMs ?? 1000;
  const onError = opts.onError ?? ((e: unknown) => process.stderr.write(`jsonl-mirror tail: ${(e as Error).message}\n`));
  const wanted = opts.streams ? new Set(opts.streams) : undefined;
  const skipped = new Set<string>();
  const follow = new FollowedFiles();
  // The tailer reads each file a batch at a time and yields, so signals and watcher events are served during a long catch-up.
  const ingestOpts: IngestOptions = {
    ...opts.ingest,
    maxBatches: 1,
    follow,
    onSkip: (k) => {
      if (skipped.has(k.path)) return; // one warning per file, not one per round
      skipped.add(k.path);
      onError(new Error(k.reason));
    },
  };
  let lastError: string | undefined;
  /** An error that persists is reported once, not on every retry. */
  const reportOnce = (err: unknown): void => {
    const message = (err as Error)?.message ?? String(err);
    if (message === lastError) return;
    lastError = message;
    onError(err);
  };
  const feed = new ChangeFeed(onError);
  const dirty = new Set<string>();
  const pending = new Set<string>();
  const counters = { rows: 0, rejects: 0 };
  let store: Store | undefined;
  let lastId = 0;
  let startedAt: number | undefined;
  let watcher: DirWatch | undefined;
  let poller: NodeJS.Timeout | undefined;
  let scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];
  let polls = 0;

  const wants = (stream: string): boolean => !wanted || wanted.has(stream);
  const scan = new DirScan(opts.dir, wants);

  const engine = engineOf(dbPath);
  // This tailer keeps a mirror file (the fleet's is pg-tailer.ts): one found broken is moved aside and built again.
  const quarantine: Quarantine = engine.quarantine ?? notAFile(dbPath);
  const corrupt = (aside: string): string => `${dbPath} is corrupt; moved it aside to ${aside} and rebuilding the mirror from the files`;

  /** A broken mirror is moved aside (never deleted) and rebuilt from the files by the ordinary catch-up. */
  function openMirror(): Store {
    const s = quarantine.openHealed(dbPath, (aside) => onError(new Error(corrupt(aside))));
    try {
      claimTailer(s);
      // An interrupted bulk import left the mirror without its secondary indexes: the one writer builds them now.
      if (s.bulkLoad && s.indexesPending()) {
        s.bulkLoad.checkInterrupted();
        s.bulkLoad.finishIndexes();
      }
      lastId = s.maxEventId();
    } catch (err) {
      s.close();
      // Found broken after the open (a bulk load cut short by an OS crash): aside, and start afresh from the files.
      const aside = quarantine.isBroken(err) ? quarantine.moveAside(dbPath, err) : null;
      if (aside) {
        onError(new Error(corrupt(aside)));
        return openMirror();
      }
      throw engine.explainError(err, dbPath);
    }
    return s;
  }

  /** Like the writer, the tailer waits for another process's write lock instead of giving up (a long import holds it). */
  async function openWhenUnlocked(): Promise<Store> {
    for (let said = false; ; ) {
      try {
        return openMirror();
      } catch (err) {
        if (!isMirrorError(err, 'DB_LOCKED') || stopped) throw err;
        if (!said) onError(new Error(`${dbPath} is locked by another process; waiting for it`));
        said = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  function markDirty(stream: string): void {
    if (stopped || !wants(stream)) return;
    dirty.add(stream);
    schedule(0);
  }

  function schedule(delayMs: number): void {
    if (scheduled || stopped) return;
    scheduled = delayMs === 0 ? setImmediate(run) : setTimeout(run, delayMs);
  }

  /** One round: one batch per dirty stream, then the change feed. */
  function run(): void {
    scheduled = undefined;
    if (stopped) return;
    try {
      store ??= openMirror();
      // One listing per round, not per stream: with thousands of streams, listing the folder for each is the whole cost.
      const listing = dirty.size > 1 ? listStreams(opts.dir) : undefined;
      for (const stream of [...dirty]) {
        dirty.delete(stream);
        const t = ingestStream(store, opts.dir, stream, ingestOpts, undefined, listing ? listing.get(stream) ?? [] : undefined);
        if (stream === COSTS_STREAM) counters.rows += importLegacyCosts(store, opts.dir, { ifChanged: true })?.added ?? 0;
        counters.rows += t.rows;
        counters.rejects += t.rejects;
        if (t.bytes > 0) dirty.add(stream); // maybe more than one batch behind
        if (t.pendingBytes > 0) pending.add(stream);
        else pending.delete(stream);
      }
      lastId = publishNew(store, feed, lastId);
      lastError = undefined;
    } catch (err) {
      if (quarantine.isBroken(err) && store) {
        follow.closeAll();
        store.close();
        store = undefined;
        onError(new Error(corrupt(quarantine.moveAside(dbPath, err)!)));
      } else if (!isMirrorError(engine.explainError(err, dbPath), 'DB_LOCKED')) reportOnce(err);
      for (const s of scan.streams()) dirty.add(s);
      schedule(100);
      return;
    }
    if (dirty.size > 0) schedule(0);
    else {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** The safety net under the watcher: a stat per file, and the mirror itself still in place. */
  function poll(): void {
    try {
      if (store?.movedOnDisk()) {
        // The mirror was deleted or replaced: start a fresh one from the files.
        follow.closeAll();
        store.close();
        store = undefined;
        scan.reset();
      }
      // A kept generation that was truncated, pruned or rebuilt away is no longer followed (looked at every 60th poll).
      if (store && ++polls % 60 === 0) follow.retain(activeSources(store));
      for (const stream of scan.changed()) dirty.add(stream);
      for (const s of pending) dirty.add(s); // a rotated file's unfinished line is taken after its grace period
      for (const s of follow.drainingStreams()) dirty.add(s); // a generation renamed away is let go once drained and idle
      // A rebuild swaps the mirror's content, claim included: claim it again.
      if (store && !runningTailer(store)) claimTailer(store);
      if (dirty.size > 0 || !store) schedule(0);
    } catch (err) {
      onError(err);
    }
  }

  return {
    async start() {
      store = await openWhenUnlocked();
      startedAt = Date.now();
      for (const s of scan.streams()) dirty.add(s);
      watcher = watchDir([opts.dir, ...[historyDirOf(opts.dir)].filter((h): h is string => h !== undefined)], { polling: opts.polling ?? false, intervalMs: pollMs }, (name) => {
        const stream = streamOf(name);
        if (stream) markDirty(stream);
      }, onError);
      await watcher.ready;
      poller = setInterval(poll, pollMs);
      schedule(0);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (poller) clearInterval(poller);
      if (scheduled) {
        clearTimeout(scheduled as NodeJS.Timeout);
        clearImmediate(scheduled as NodeJS.Immediate);
      }
      await watcher?.close();
      follow.closeAll();
      if (store) {
        try {
          lastId = publishNew(store, feed, lastId);
          releaseTailer(store);
        } finally {
          store.close();
          store = undefined;
        }
      }
      feed.end();
      for (const w of idleWaiters) w();
    },
    subscribe: (fn) => feed.subscribe(fn),
    [Symbol.asyncIterator]: () => feed[Symbol.asyncIterator](),
    idle: () => (dirty.size === 0 && !scheduled ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    stats: () => tailerStats(store, opts.dir, wants, counters, startedAt),
  };
}
