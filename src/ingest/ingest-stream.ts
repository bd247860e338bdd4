import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { MirrorError, sqliteCode } from '../errors.js';
import type { Store } from '../store/open.js';
import { ingestFile } from './ingest-file.js';
import { lagBytes } from './lag.js';
import type { StreamFile } from '../model/streams.js';
import { streamFiles } from './layout.js';
import {
  emptyTotals, resolveIngestOptions, type IngestOptions, type IngestTotals, type ResolvedIngestOptions, type Skipped,
} from './options.js';
import { resolveSource, statAtPath, type OpenFile, type Resolution } from './sources.js';

/**
 * Opens a stream file for reading, or says why not. A FIFO is never opened
 * (opening it would wait for a writer); O_NONBLOCK guards against a file
 * swapped for one between the stat and the open.
 */
export function openStreamFile(dir: string, f: StreamFile): OpenFile | Skipped | undefined {
  const path = join(dir, f.name);
  let fd: number;
  try {
    const pre = statSync(path, { throwIfNoEntry: false });
    if (!pre) return undefined; // rotated or deleted since the listing
    if (!pre.isFile()) return notRegular(path, pre);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return {
      path,
      kind: 'unreadable',
      reason: `cannot read ${path} (${code ?? (err as Error).message}); give this user read permission on it, or move it out of the log directory`,
    };
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    return notRegular(path, st);
  }
  return { ...f, fd, st };
}

function notRegular(path: string, st: Stats): Skipped {
  const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'not a regular file';
  return { path, kind: 'not-a-file', reason: `skipped ${path}: it is ${what}, not a log file (rename it or move it out of the log directory)` };
}

/**
 * Brings one stream's mirror up to date with its files: every file, oldest
 * first, from its checkpoint to its last newline. This is the one ingest path
 * (invariant 2) shared by import, the writer's mirror step, the tailer and reads.
 */
export function ingestStream(
  store: Store,
  dir: string,
  stream: string,
  options?: IngestOptions,
  totals: IngestTotals = emptyTotals(),
): IngestTotals {
  const opts = resolveIngestOptions(options);
  try {
    // A generation that ended in this pass may live on in a copy the pass did not list (a copytruncate under way).
    for (let pass = 0; pass < 3; pass++) {
      if (!ingestPass(store, dir, stream, opts, totals)) break;
    }
  } catch (err) {
    const code = sqliteCode(err) ?? (err as NodeJS.ErrnoException)?.code;
    if (code !== 'SQLITE_FULL' && code !== 'ENOSPC') throw err;
    throw new MirrorError('DISK_FULL', `no space left for the mirror ${store.path}; free disk space (a mirror takes about 2.4 times ` +
      'the size of its logs) and run the command again: it goes on from its last checkpoint, nothing is lost', { cause: err });
  }
  return totals;
}

/** One pass over the stream's files as listed now; true when a generation ended and the files are worth listing again. */
function ingestPass(store: Store, dir: string, stream: string, opts: ResolvedIngestOptions, totals: IngestTotals): boolean {
  const seen = new Set<number>();
  let replaced = false;
  let olderRank: number | undefined;
  for (const f of streamFiles(dir, stream)) {
    const file = openStreamFile(dir, f);
    if (!file) continue;
    if ('kind' in file) {
      totals.skipped.push(file);
      opts.onSkip?.(file);
      continue;
    }
    try {
      totals.files++;
      const idle = Date.now() - file.st.mtimeMs >= opts.rotatedGraceMs;
      const final = opts.final || (file.rotation > 0 && idle);
      // A file that changed under us between resolution and read is resolved again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = store.transaction(resolveLocked)(store, dir, file, olderRank, opts);
        if (r.replaced) replaced = true;
        if (r.kind === 'copy') {
          seen.add(r.id);
          break;
        }
        seen.add(r.src.id);
        olderRank = r.src.rank;
        const outcome = ingestFile(store, file, r.src.id, final, opts, totals);
        if (outcome !== 'invalid') {
          const after = store.sourceById(r.src.id)!;
          totals.pendingBytes += lagBytes(file.st.size, after);
          break;
        }
      }
    } finally {
      closeSync(file.fd);
    }
  }
  markGone(store, dir, stream, seen);
  return replaced;
}

/**
 * Sources whose file was not found are kept as history (invariant 1), marked
 * gone; one whose file appeared after our listing (another process made it)
 * is left alone. A gone source whose file comes back is revived by resolution.
 */
function markGone(store: Store, dir: string, stream: string, seen: Set<number>): void {
  store.transaction(markGoneLocked)(store, dir, stream, seen, new Date().toISOString());
}

function markGoneLocked(store: Store, dir: string, stream: string, seen: Set<number>, now: string): void {
  for (const s of store.knownSources(stream)) {
    if (s.state === 'gone' || seen.has(s.id) || statAtPath(dir, s)) continue;
    store.setState(s.id, 'gone', now);
  }
}

/** Resolution under the write lock, against the file as it is now. */
function resolveLocked(store: Store, dir: string, file: OpenFile, olderRank: number | undefined, opts: ResolvedIngestOptions): Resolution {
  file.st = fstatSync(file.fd);
  return resolveSource(store, dir, file, olderRank, opts);
}
