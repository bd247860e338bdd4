import { existsSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMirrorError, MirrorError } from '../errors.js';
import { importAll, type ImportOptions, type ImportSummary } from '../import/import.js';
import { listStreams } from '../ingest/layout.js';
import { defaultHostId } from '../model/mirror-db.js';
import type { Engine, Store } from '../store/api.js';
import { engineEntry } from '../store/engine.js';
import { engineOf } from '../store/engines.js';

export interface RebuildOptions extends ImportOptions {
  /** Drop history kept from deleted or truncated files without asking. */
  yes?: boolean;
  /** On a fleet mirror: the host whose rows are rebuilt from this folder (default: $JSONL_MIRROR_HOST_ID, else the hostname). */
  hostId?: string;
}

export interface RebuildResult extends ImportSummary {
  /** Rows of deleted or truncated files the old mirror held and the new one does not. */
  droppedHistoryRows: number;
  /** Where a broken old mirror was moved. */
  movedAside: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The files of every stream now, by device and inode. */
function filesNow(dir: string): Set<string> {
  const ids = new Set<string>();
  for (const list of listStreams(dir).values()) {
    for (const f of list) {
      const st = statSync(join(dir, f.name), { throwIfNoEntry: false });
      if (st) ids.add(`${st.dev}:${st.ino}`);
    }
  }
  return ids;
}

/**
 * History the files can no longer give back: rows of gone or replaced
 * sources, and of sources still marked active whose file is nowhere in the
 * folder (a whole stream deleted since the last ingest).
 */
function historyRows(dir: string, store: Store): number {
  const now = filesNow(dir);
  return store.allSources()
    .filter((s) => s.state === 'gone' || s.state === 'replaced' || (s.kind === 'jsonl' && s.state === 'active' && !now.has(`${s.dev}:${s.ino}`)))
    .reduce((a, s) => a + s.rows, 0);
}

function refuseLostHistory(dropped: number, opts: RebuildOptions): void {
  if (dropped > 0 && !opts.yes) {
    throw new MirrorError(
      'INVALID_ARGUMENT',
      `the mirror holds ${dropped} rows from files that were deleted or truncated; a rebuild from the files cannot bring them back. ` +
        'Run `jsonl-mirror export > history.ndjson` to keep them, then `jsonl-mirror rebuild --yes`',
    );
  }
}

/**
 * One host of a fleet mirror, rebuilt from its folder in one transaction:
 * its rows dropped and read again, so readers see the old rows or the new
 * ones, and the other hosts' rows are untouched (their ingest waits for the
 * commit: the event-order lock is held throughout). This host's tailer must
 * not run meanwhile: the rebuild holds its claim.
 */
function rebuildHost(engine: Engine, dir: string, db: string, opts: RebuildOptions): RebuildResult {
  const hostId = opts.hostId ?? defaultHostId();
  const store = engine.open(db, { hostId });
  const folder = realpathSync(dir);
  try {
    const { fleet, tryTailerLock, releaseTailerLock } = store;
    if (!fleet || !tryTailerLock || !releaseTailerLock) {
      throw new MirrorError('INVALID_ARGUMENT', `${engineEntry(db).label(db)} is neither a mirror file to build aside nor a fleet mirror of hosts; rebuild cannot replace it`);
    }
    if (!tryTailerLock.call(store, folder)) {
      throw new MirrorError('TAILER_RUNNING', `the tailer of host ${hostId} for ${folder} is running; stop it, then run the rebuild again (it restarts from the rebuilt rows)`);
    }
    try {
      const dropped = historyRows(dir, store);
      refuseLostHistory(dropped, opts);
      const summary = store.transaction(() => {
        fleet.forgetHost();
        return importAll(store, dir, opts);
      })();
      return { ...summary, droppedHistoryRows: dropped, movedAside: null };
    } finally {
      releaseTailerLock.call(store, folder);
    }
  } finally {
    store.close();
  }
}

/**
 * Builds a fresh mirror from the files next to the old one, then swaps it in
 * with SQLite's online backup in a single step: readers and a running tailer
 * see the old mirror or the new one, never half of either, and no stale WAL
 * can pair with a new file.
 */
export async function rebuildMirror(dir: string, dbPath: string, opts: RebuildOptions = {}): Promise<RebuildResult> {
  const engine = engineOf(dbPath);
  // Built as a file next to the old one and swapped in where the mirror is a file; a fleet's host in place.
  if (!engineEntry(dbPath).file) return rebuildHost(engine, dir, dbPath, opts);
  let movedAside: string | null = null;
  let dropped = 0;
  if (existsSync(dbPath)) {
    try {
      const old = engine.open(dbPath, { readonly: true });
      try {
        dropped = historyRows(dir, old);
      } finally {
        old.close();
      }
    } catch (err) {
      movedAside = engine.quarantine?.moveAside(dbPath, err) ?? null;
      if (movedAside === null) throw err;
    }
    refuseLostHistory(dropped, opts);
  }
  const temp = `${dbPath}.rebuild-${process.pid}`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  const fresh = engine.open(temp);
  try {
    const summary = importAll(fresh, dir, opts);
    fresh.walCheckpoint?.();
    if (!existsSync(dbPath)) {
      fresh.close();
      for (const suffix of ['-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
      renameSync(temp, dbPath);
    } else {
      for (let attempt = 0; ; attempt++) {
        try {
          // A file engine (the branch above) has the backup.
          await fresh.backupTo!(dbPath);
          break;
        } catch (err) {
          if (!isMirrorError(engine.explainError(err, dbPath), 'DB_LOCKED') || attempt >= 100) throw err;
          await sleep(50);
        }
      }
      fresh.close();
    }
    return { ...summary, droppedHistoryRows: dropped, movedAside };
  } finally {
    fresh.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  }
}
