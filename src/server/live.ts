import { isMirrorError } from '../errors.js';
import { liveTailer, type LiveTailer } from '../tailer/live-tailer.js';
import type { TailerOwner } from '../tailer/lock.js';
import type { TailerStats } from '../tailer/stats.js';

export interface LiveOptions {
  dir: string;
  /** A SQLite mirror's path or the fleet's postgres:// URL. */
  db: string;
  /** On a fleet mirror: the machine this process ingests for. */
  hostId: string;
  /** Run a tailer in this process when no other process does (default true). */
  tail: boolean;
  /** Something was committed (or may have been): the feed looks for new rows. */
  onChange(): void;
  /** Who holds the mirror's tailer, read from the mirror; null when nobody (or no mirror). */
  holder(): TailerOwner | null;
  onError(err: unknown): void;
}

export interface LiveStatus {
  /** tailer: this process keeps the mirror current; follower: another process does, we follow its commits; off: nobody here. */
  mode: 'tailer' | 'follower' | 'off';
  holder: TailerOwner | null;
  stats: TailerStats | null;
}

export interface Live {
  status(): LiveStatus;
  stop(): Promise<void>;
}

/** How often committed rows are looked for (our own tailer announces its batches at once; other writers' commits are found this way). */
const FOLLOW_MS = 100;
/** A follower takes over when the other tailer is gone. */
const TAKEOVER_MS = 2000;

/**
 * Keeps the mirror current while the server runs: its own tailer (which
 * announces every committed batch), or, when another process holds the
 * tailer, a poll of committed rows by id, taking over if that process goes.
 */
export async function keepCurrent(opts: LiveOptions): Promise<Live> {
  let tailer: LiveTailer | undefined;
  let stopped = false;
  let lastTakeover = 0;

  async function tryTail(): Promise<void> {
    if (opts.holder() !== null) return;
    const t = liveTailer({ dir: opts.dir, db: opts.db, hostId: opts.hostId, onError: opts.onError });
    try {
      await t.start();
    } catch (err) {
      await t.stop().catch(() => {});
      if (isMirrorError(err, 'TAILER_RUNNING')) return;
      throw err;
    }
    if (stopped) {
      await t.stop();
      return;
    }
    tailer = t;
    t.subscribe?.(() => opts.onChange());
  }

  if (opts.tail) {
    try {
      await tryTail();
    } catch (err) {
      // No SQLite here, or a mirror this user may not write: the server still answers (from the files).
      opts.onError(err);
    }
  }

  let taking = false;
  const timer = setInterval(
    () => {
      opts.onChange();
      if (!opts.tail || tailer || taking || Date.now() - lastTakeover < TAKEOVER_MS) return;
      lastTakeover = Date.now();
      taking = true;
      tryTail().catch(opts.onError).finally(() => (taking = false));
    },
    FOLLOW_MS,
  );
  timer.unref();

  return {
    status() {
      if (tailer) return { mode: 'tailer', holder: opts.holder(), stats: tailer.stats() };
      const holder = opts.holder();
      return { mode: holder ? 'follower' : 'off', holder, stats: null };
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await tailer?.stop();
    },
  };
}
