import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { isMirrorError, sqliteCode } from '../errors.js';
import { importLegacyCosts } from '../import/legacy-costs.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';
import { eventForHandout } from '../ingest/handout.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { lagBytes } from '../ingest/lag.js';
import { statAtPath } from '../ingest/sources.js';
import { assertDir, parseStreamFile } from '../ingest/layout.js';
import type { IngestOptions } from '../ingest/options.js';
import { translateOpenError, type Store } from '../store/open.js';
import { ChangeFeed, type ChangeBatch, type Subscriber } from './feed.js';
import { claimTailer, releaseTailer, runningTailer } from './lock.js';
import { isBrokenDb, moveAsideBroken, openHealed } from '../store/quarantine.js';

export interface TailerOptions {
  dir: string;
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

export interface TailerFileStats {
  stream: string;
  path: string;
  size: number;
  checkpoint: number;
  lagBytes: number;
  /** Seconds since the file was last written, while it is behind. */
  lagSeconds: number;
}

export interface TailerStats {
  startedAt: string | null;
  rows: number;
  rejects: number;
  /** Rows per second since the start. */
  rowsPerSecond: number;
  files: TailerFileStats[];
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

const FEED_PAGE = 5000;

export function createTailer(opts: TailerOptions): Tailer {
  assertDir(opts.dir);
  const dbPath = opts.db ?? join(opts.dir, 'mirror.db');
  const pollMs = opts.pollIntervalMs ?? 1000;
  const onError = opts.onError ?? ((e: unknown) => process.stderr.write(`jsonl-mirror tail: ${(e as Error).message}\n`));
  const wanted = opts.streams ? new Set(opts.streams) : undefined;
  const skipped = new Set<string>();
  // The tailer reads each file a batch at a time and yields, so signals and watcher events are served during a long catch-up.
  const ingestOpts: IngestOptions = {
    ...opts.ingest,
    maxBatches: 1,
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
  const signatures = new Map<string, string>();
  const counters = { rows: 0, rejects: 0 };
  let store: Store | undefined;
  let lastId = 0;
  let startedAt: number | undefined;
  let watcher: FSWatcher | undefined;
  let poller: NodeJS.Timeout | undefined;
  let scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const wants = (stream: string): boolean => !wanted || wanted.has(stream);
  /** The stream a file of the directory feeds: costs.json (rewritten by Shipwright with a temp file and mv) feeds `costs`. */
  const streamOf = (name: string): string | undefined => (name === LEGACY_COSTS_FILE ? COSTS_STREAM : parseStreamFile(name)?.stream);

  const corrupt = (aside: string): string => `${dbPath} is corrupt; moved it aside to ${aside} and rebuilding the mirror from the files`;

  /** A broken mirror is moved aside (never deleted) and rebuilt from the files by the ordinary catch-up. */
  function openMirror(): Store {
    const s = openHealed(dbPath, (aside) => onError(new Error(corrupt(aside))));
    try {
      claimTailer(s);
      // An interrupted bulk import left the mirror without its secondary indexes: the one writer builds them now.
      if (s.engine === 'sqlite' && s.indexesPending()) s.finishIndexes();
      lastId = s.maxEventId();
    } catch (err) {
      s.close();
      throw translateOpenError(err, dbPath);
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

  function allStreams(): string[] {
    const names = new Set<string>();
    for (const f of readdirSync(opts.dir)) {
      const stream = streamOf(f);
      if (stream && wants(stream)) names.add(stream);
    }
    return [...names];
  }

  /** One round: one batch per dirty stream, then the change feed. */
  function run(): void {
    scheduled = undefined;
    if (stopped) return;
    try {
      store ??= openMirror();
      for (const stream of [...dirty]) {
        dirty.delete(stream);
        const t = ingestStream(store, opts.dir, stream, ingestOpts);
        if (stream === COSTS_STREAM) counters.rows += importLegacyCosts(store, opts.dir, { ifChanged: true })?.added ?? 0;
        counters.rows += t.rows;
        counters.rejects += t.rejects;
        if (t.bytes > 0) dirty.add(stream); // maybe more than one batch behind
        if (t.pendingBytes > 0) pending.add(stream);
        else pending.delete(stream);
      }
      publish(store);
      lastError = undefined;
    } catch (err) {
      const code = sqliteCode(err) ?? '';
      if (isBrokenDb(err) && store) {
        store.close();
        store = undefined;
        onError(new Error(corrupt(moveAsideBroken(dbPath, err)!)));
      } else if (!code.startsWith('SQLITE_BUSY') && !isMirrorError(err, 'DB_LOCKED')) reportOnce(err);
      for (const s of allStreams()) dirty.add(s);
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

  function publish(s: Store): void {
    if (!feed.active) {
      lastId = s.maxEventId();
      return;
    }
    for (;;) {
      const rows = s.eventsAfter(lastId, FEED_PAGE);
      if (rows.length === 0) return;
      lastId = rows.at(-1)!.id;
      const byStream = new Map<string, typeof rows>();
      for (const r of rows) {
        const list = byStream.get(r.stream);
        if (list) list.push(r);
        else byStream.set(r.stream, [r]);
      }
      for (const [stream, list] of byStream) {
        list.sort((a, b) => a.ts_epoch - b.ts_epoch || a.rank - b.rank || a.offset - b.offset);
        feed.publish({ stream, events: list.map((r) => eventForHandout(r.line)), lines: list.map((r) => r.line) });
      }
    }
  }

  /** The safety net under the watcher: a stat per file, and the mirror itself still in place. */
  function poll(): void {
    try {
      if (store?.movedOnDisk()) {
        // The mirror was deleted or replaced: start a fresh one from the files.
        store.close();
        store = undefined;
        signatures.clear();
      }
      for (const name of readdirSync(opts.dir)) {
        const stream = streamOf(name);
        if (!stream || !wants(stream)) continue;
        const fst = statSync(join(opts.dir, name), { throwIfNoEntry: false });
        const sig = fst ? `${fst.ino}:${fst.size}:${fst.mtimeMs}` : '';
        if (signatures.get(name) !== sig) {
          signatures.set(name, sig);
          dirty.add(stream);
        }
      }
      for (const s of pending) dirty.add(s); // a rotated file's unfinished line is taken after its grace period
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
      for (const s of allStreams()) dirty.add(s);
      watcher = watch(opts.dir, {
        depth: 0, ignoreInitial: true, usePolling: opts.polling ?? false, interval: pollMs, atomic: false, awaitWriteFinish: false,
      });
      const hint = (path: unknown) => {
        if (typeof path !== 'string') return;
        const stream = streamOf(path.slice(path.lastIndexOf('/') + 1));
        if (stream) markDirty(stream);
      };
      // chokidar throttles 'change' to one per 50 ms per file; its raw events are not throttled, so both are hints.
      watcher.on('all', (_event, path) => hint(path));
      watcher.on('raw', (_event, path) => hint(path));
      watcher.on('error', onError);
      await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
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
      if (store) {
        try {
          publish(store);
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
    stats() {
      const files: TailerFileStats[] = [];
      if (store) {
        const now = Date.now();
        for (const s of store.allSources()) {
          if (s.state !== 'active' || s.kind !== 'jsonl' || !wants(s.stream)) continue;
          const st = statAtPath(opts.dir, s);
          if (!st) continue;
          const lag = lagBytes(st.size, s);
          files.push({ stream: s.stream, path: s.path, size: st.size, checkpoint: s.offset, lagBytes: lag,
            lagSeconds: lag > 0 ? Math.max(0, (now - st.mtimeMs) / 1000) : 0 });
        }
      }
      const secs = startedAt ? (Date.now() - startedAt) / 1000 : 0;
      return {
        startedAt: startedAt ? new Date(startedAt).toISOString() : null,
        ...counters,
        rowsPerSecond: secs > 0 ? Math.round(counters.rows / secs) : 0,
        files,
      };
    },
  };
}
