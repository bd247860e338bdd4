import type { Store } from '../store/api.js';
import { engineEntry } from '../store/engine.js';
import { runningTailer, type TailerOwner } from './lock.js';
import { createPgTailer, runningPgTailer } from './pg-tailer.js';
import type { TailerStats } from './stats.js';
import { createTailer } from './tailer.js';

/** What a server needs of the tailer it runs, whichever mirror it keeps current. */
export interface LiveTailer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The files' lag and the ingest rate; null where the tailer does not keep them (the fleet tailer). */
  stats(): TailerStats | null;
  /** Told of each batch it commits, where it announces them; otherwise its commits are found by polling. */
  subscribe?(fn: () => void): void;
}

export interface LiveTailerOptions {
  dir: string;
  /** A SQLite mirror's path or the fleet's postgres:// URL. */
  db: string;
  /** On a fleet mirror: the machine this process ingests for. */
  hostId: string;
  onError: (err: unknown) => void;
}

/** The tailer for the mirror `db` names: a fleet's (polling, one per host and folder) or a mirror file's (watching, announcing each batch). */
export function liveTailer(opts: LiveTailerOptions): LiveTailer {
  if (engineEntry(opts.db).fleet) {
    const t = createPgTailer({ dir: opts.dir, url: opts.db, hostId: opts.hostId, onError: opts.onError });
    return { start: () => t.start(), stop: () => t.stop(), stats: () => null };
  }
  const t = createTailer({ dir: opts.dir, db: opts.db, onError: opts.onError });
  return { start: () => t.start(), stop: () => t.stop(), stats: () => t.stats(), subscribe: (fn) => void t.subscribe(() => fn()) };
}

/** Who keeps this folder's part of the mirror current now, as the mirror records it; null when nobody does. */
export function tailerHolder(store: Store, dir: string): TailerOwner | null {
  return store.fleet ? runningPgTailer(store, dir) : runningTailer(store);
}
