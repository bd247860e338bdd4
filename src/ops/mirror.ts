import { existsSync } from 'node:fs';
import { MirrorError, sqliteCode } from '../errors.js';
import { openMirror as openEngine } from '../store/engine.js';
import type { OpenOptions } from '../store/open.js';
import type { Store } from '../store/engine.js';
import { defaultHostId, isPgUrl, redact } from '../model/mirror-db.js';
import { moveAsideBroken } from '../store/quarantine.js';

export type { Store };
export { defaultHostId, isPgUrl, redact };

/** The mirror --db names: a SQLite file, or the fleet's PostgreSQL database scoped to this host. */
export function openMirror(db: string, opts: OpenOptions = {}, hostId = defaultHostId()): Store {
  return openEngine(db, { ...opts, hostId });
}

/** Opens the mirror for one command and closes it whatever happens. */
export async function withStore<T>(db: string, opts: OpenOptions, fn: (store: Store) => T | Promise<T>, hostId = defaultHostId()): Promise<T> {
  const store = openMirror(db, opts, hostId);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/**
 * A read-only view of the mirror (the server's feed and status); none when
 * there is no usable mirror yet (no SQLite file: nothing is created), with
 * why told to `onProblem` when one exists but cannot be opened.
 */
export function openMirrorView(db: string, hostId: string, onProblem?: (message: string) => void): Store | undefined {
  if (!isPgUrl(db) && !existsSync(db)) return undefined;
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
 * store's quarantine policy moved a provably-ours file aside, and the error
 * says where; anything else (a foreign file, a folder we may not write, not
 * a broken mirror) leaves the file alone and the original error stands.
 */
export function afterWriteFailure(db: string, err: unknown): unknown {
  if (isPgUrl(db)) return err;
  const code = sqliteCode(err) ?? '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    // Another writer held the lock past the busy timeout: nothing is wrong with the file, and nothing was half-written.
    return new MirrorError('DB_LOCKED', `${db} stayed locked by another process writing it; run the command again when that one finishes`, { cause: err });
  }
  let aside: string | null;
  try {
    aside = moveAsideBroken(db, err);
  } catch {
    return err;
  }
  if (!aside) return err;
  // Self-healing: keep the broken file for inspection, out of the way of the next mirror.
  return new MirrorError('DB_CORRUPT', `${db} is not a usable SQLite database (${firstLine(err)}); moved it aside to ${aside}. ` +
    'Reads use the files until you run `jsonl-mirror rebuild`');
}

/** `jsonl-mirror query`'s connection refuses every write, whatever the statement (PostgreSQL: a read-only session already). */
export function queryOnly(store: Store): void {
  if (store.engine === 'sqlite') store.queryOnly();
}
