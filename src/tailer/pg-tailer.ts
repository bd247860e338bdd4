import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { isMirrorError, MirrorError } from '../errors.js';
import { activeSources, FollowedFiles } from '../ingest/followed.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { assertDir, listStreams } from '../ingest/layout.js';
import { emptyTotals, type IngestOptions } from '../ingest/options.js';
import { importLegacyCosts } from '../import/legacy-costs.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';
import type { Store } from '../store/api.js';
import { engineEntry } from '../store/engine.js';
import { engineOf } from '../store/engines.js';
import type { TailerOwner } from './lock.js';

export interface PgTailerOptions {
  dir: string;
  /** postgres://… */
  url: string;
  /** This machine in the fleet mirror. */
  hostId: string;
  /** Only these streams (default: every stream in the directory, new ones included). */
  streams?: string[];
  /** How often the files are looked at when nothing is pending, ms (default 250). */
  pollIntervalMs?: number;
  /** The longest wait between reconnection attempts, ms (default 5000). */
  maxBackoffMs?: number;
  ingest?: IngestOptions;
  /** What it survives and retries (the server away, a failed batch); default: one line on stderr. */
  onError?: (err: unknown) => void;
}

export interface PgTailerStats {
  startedAt: string | null;
  rows: number;
  rejects: number;
  /** Times the connection was lost and made again. */
  reconnects: number;
}

export interface PgTailer {
  /** Connects (retrying while the server is away), claims host + folder, then follows the files. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Settles when the tailer gives up (rejects with why: another tailer took over after a reconnect). */
  readonly finished: Promise<void>;
  stats(): PgTailerStats;
}

const tailerKey = (folder: string): string => `tailer:${folder}`;

/** The fleet tailer of this host and folder while its session holds the lock; null otherwise (a killed one's record is ignored). */
export function runningPgTailer(store: Store, dir: string): TailerOwner | null {
  const folder = realpathSync(dir);
  if (!store.tailerLockHeld?.(folder)) return null;
  const value = store.getMeta(tailerKey(folder));
  return value !== undefined ? (JSON.parse(value) as TailerOwner) : { pid: 0, host: store.fleet?.host ?? '', startedAt: '' };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The fleet tailer: one per host and folder (a PostgreSQL advisory lock held
 * by its session, so a tailer killed with -9 frees it with its connection).
 * It polls rather than watching: the ingest is the same incremental one, and
 * a poll every quarter second costs a few stat calls. A lost server is
 * retried with a doubling backoff; nothing is lost meanwhile because the
 * checkpoints live in PostgreSQL with their rows, and the files keep growing.
 */
export function createPgTailer(opts: PgTailerOptions): PgTailer {
  assertDir(opts.dir);
  const folder = realpathSync(opts.dir);
  const engine = engineOf(opts.url);
  const label = engineEntry(opts.url).label(opts.url);
  const pollMs = opts.pollIntervalMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 5000;
  const onError = opts.onError ?? ((e: unknown) => process.stderr.write(`jsonl-mirror tail: ${(e as Error).message}\n`));
  // One batch per stream per turn: the loop yields between turns, so signals are served during a long catch-up.
  // Each generation kept open, so that one renamed out of every listing is still drained (as the SQLite tailer does).
  const follow = new FollowedFiles();
  const ingestOpts: IngestOptions = { ...opts.ingest, maxBatches: 1, follow };
  let turns = 0;
  const stats: PgTailerStats = { startedAt: null, rows: 0, rejects: 0, reconnects: 0 };
  let store: Store | undefined;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let giveUp: (err: unknown) => void = () => {};
  const finished = new Promise<void>((_, reject) => {
    giveUp = reject;
  });
  // Nobody may be waiting on it (a library caller that only calls stop()).
  finished.catch(() => {});

  /** Connects and claims; a claim held by another live session is not retried. */
  function connect(): Store {
    const s = engine.open(opts.url, { hostId: opts.hostId });
    if (!s.tryTailerLock?.(folder)) {
      s.close();
      throw new MirrorError(
        'TAILER_RUNNING',
        `a tailer for host ${opts.hostId} and ${folder} already runs on ${label}; stop it first, or give this one another --host-id`,
      );
    }
    // Who holds the claim, for status; the lock, not this record, is what counts.
    const me: TailerOwner = { pid: process.pid, host: hostname(), startedAt: stats.startedAt ?? new Date().toISOString() };
    s.setMeta(tailerKey(folder), JSON.stringify(me));
    return s;
  }

  async function connectWithBackoff(): Promise<Store | undefined> {
    let wait = 100;
    while (!stopping) {
      try {
        return connect();
      } catch (err) {
        const e = engine.explainError(err, opts.url);
        if (!isMirrorError(e, 'DB_UNREACHABLE')) throw e;
        onError(new Error(`${(e as Error).message}; retrying in ${(wait / 1000).toFixed(1)} s`));
        await sleep(wait);
        wait = Math.min(maxBackoff, wait * 2);
      }
    }
    return undefined;
  }

  let costsSeen = '';
  /** costs.json as the SQLite tailer takes it, read again only when its stat changed (a poll stays a few stat calls). */
  function legacyCosts(s: Store): number {
    if (opts.streams && !opts.streams.includes(COSTS_STREAM)) return 0;
    const st = statSync(join(opts.dir, LEGACY_COSTS_FILE), { throwIfNoEntry: false });
    const seen = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '';
    if (seen === costsSeen) return 0;
    const added = st ? (importLegacyCosts(s, opts.dir, { ifChanged: true })?.added ?? 0) : 0;
    costsSeen = seen;
    return added;
  }

  /** One turn over every stream; true when it read something (then the next turn comes at once). */
  function turn(s: Store): boolean {
    const totals = emptyTotals();
    // A kept generation that was truncated or pruned away is no longer followed (looked at every 240th turn, a minute).
    if (++turns % 240 === 0) follow.retain(activeSources(s));
    const listing = listStreams(opts.dir);
    const streams = opts.streams ?? [...listing.keys()];
    for (const stream of streams) ingestStream(s, opts.dir, stream, ingestOpts, totals, listing.get(stream) ?? []);
    totals.rows += legacyCosts(s);
    stats.rows += totals.rows;
    stats.rejects += totals.rejects;
    return totals.bytes > 0;
  }

  async function run(): Promise<void> {
    while (!stopping) {
      if (!store) {
        store = await connectWithBackoff();
        if (!store) return;
        stats.reconnects++;
      }
      let busy = false;
      try {
        busy = turn(store);
      } catch (err) {
        const e = engine.explainError(err, opts.url);
        if (isMirrorError(e, 'DB_UNREACHABLE')) {
          onError(e);
          store.close();
          store = undefined;
          continue;
        }
        onError(err);
      }
      await sleep(busy ? 0 : pollMs);
    }
  }

  return {
    async start() {
      store = await connectWithBackoff();
      if (!store) return;
      stats.startedAt = new Date().toISOString();
      loop = run().catch(giveUp);
    },
    async stop() {
      stopping = true;
      await loop;
      follow.closeAll();
      if (store) {
        try {
          store.deleteMeta(tailerKey(folder));
          store.releaseTailerLock?.(folder);
        } catch {
          // The session is going away; its lock goes with it.
        }
        store.close();
        store = undefined;
      }
    },
    finished,
    stats: () => ({ ...stats }),
  };
}
