import { existsSync } from 'node:fs';
import { isMirrorError, MirrorError } from '../errors.js';
import type { MirrorOpenOptions, Store } from '../store/api.js';
import { engineEntry } from '../store/engine.js';
import { engineOf, openMirror as openEngine } from '../store/engines.js';
import { defaultHostId } from '../model/mirror-db.js';

/** The mirror --db names: a SQLite file, or the fleet's PostgreSQL database scoped to this host. */
export function openMirror(db: string, opts: MirrorOpenOptions = {}, hostId = defaultHostId()): Store {
  return openEngine(db, { ...opts, hostId });
}

/** Opens the mirror for one command and closes it whatever happens. */
export async function withStore<T>(db: string, opts: MirrorOpenOptions, fn: (store: Store) => T | Promise<T>, hostId = defaultHostId()): Promise<T> {
  const store = openMirror(db, opts, hostId);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/**
 * A read-only view of the mirror (the server's feed and status); none when
 * there is no usable mirror yet (no file: nothing is created), with
 * why told to `onProblem` when one exists but cannot be opened.
 */
export function openMirrorView(db: string, hostId: string, onProblem?: (message: string) => void): Store | undefined {
  if (engineEntry(db).file && !existsSync(db)) return undefined;
  try {
    return openEngine(db, { readonly: true, busyTimeoutMs: 1000, hostId });
  } catch (err) {
    onProblem?.((err as Error).message);
    return undefined;
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.split(';')[0]!;

/**
 * What a command that writes reports when it failed on a broken mirror: the
 * engine's quarantine moved a provably-ours file aside, and the error
 * says where; anything else (a foreign file, a folder we may not write, not
 * a broken mirror, an engine with no files) leaves it alone and the original error stands.
 */
export function afterWriteFailure(db: string, err: unknown): unknown {
  const engine = engineOf(db);
  // Another writer held the lock past the busy timeout: nothing is wrong with the file, and nothing was half-written.
  const locked = engine.explainError(err, db);
  if (isMirrorError(locked, 'DB_LOCKED')) return locked;
  const quarantine = engine.quarantine;
  if (!quarantine) return err;
  let aside: string | null;
  try {
    aside = quarantine.moveAside(db, err);
  } catch {
    return err;
  }
  if (!aside) return err;
  // Self-healing: keep the broken file for inspection, out of the way of the next mirror.
  return new MirrorError('DB_CORRUPT', `${db} is not a usable SQLite database (${firstLine(err)}); moved it aside to ${aside}. ` +
    'Reads use the files until you run `jsonl-mirror rebuild`');
}

/** `jsonl-mirror query`'s connection refuses every write, whatever the statement (where a read-only open does not already). */
export function queryOnly(store: Store): void {
  store.queryOnly?.();
}
