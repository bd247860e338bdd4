import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { MirrorError, sqliteCode } from '../errors.js';
import type { Store } from '../store/open.js';
import { ingestFile } from './ingest-file.js';
import { lagBytes } from './lag.js';
import type { StreamFile } from '../model/streams.js';
import { openInflated } from './gunzip.js';
import { streamFiles } from './layout.js';
import {
  emptyTotals, resolveIngestOptions, type IngestOptions, type IngestTotals, type ResolvedIngestOptions, type Skipped,
} from './options.js';
import { resolveSource, statAtPath, type OpenFile, type Resolution } from './sources.js';
import type { SourceRow } from '../store/rows.js';
import { parseStreamFile } from '../model/streams.js';

/**
 * Opens a stream file for reading, or says why not. A FIFO is never opened
 * (opening it would wait for a writer); O_NONBLOCK guards against a file
 * swapped for one between the stat and the open. A `.gz` generation is read
 * through its inflated content, under the archive's own identity; a
 * symlinked log is its target's file, named by where the target is.
 */
export function openStreamFile(dir: string, f: StreamFile): OpenFile | Skipped | undefined {
  const path = join(dir, f.name);
  let fd: number;
  let name = f.name;
  let pre: Stats | undefined;
  try {
    pre = statSync(path, { throwIfNoEntry: false });
    if (!pre) return undefined; // rotated or deleted since the listing
    if (!pre.isFile()) return notRegular(path, pre);
    if (f.compressed) return openCompressed(path, f, pre);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (lstatSync(path).isSymbolicLink()) name = relative(dir, realpathSync(path));
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
  return { ...f, name, fd, st };
}

/** A gzip generation: its archive's device, inode and mtime, its content's size. */
function openCompressed(path: string, f: StreamFile, pre: Stats): OpenFile | Skipped | undefined {
  const inflated = openInflated(path, pre);
  if ('error' in inflated) {
    if (inflated.error === 'ENOENT') return undefined;
    return {
      path,
      kind: 'corrupt-archive',
      reason: `skipped ${path}: ${inflated.error}, so none of its lines are read; restore it from a backup, or move it out of the log directory`,
    };
  }
  const st = Object.assign(Object.create(Object.getPrototypeOf(pre) as object) as Stats, pre, { size: inflated.size });
  return { ...f, fd: inflated.fd, st };
}

function notRegular(path: string, st: Stats): Skipped {
  const what = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'not a regular file';
  return { path, kind: 'not-a-file', reason: `skipped ${path}: it is ${what}, not a log file (rename it or move it out of the log directory)` };
}

/**
 * Brings one stream's mirror up to date with its files: every file, oldest
 * first, from its checkpoint to its last newline. This is the one ingest path
 * (invariant 2) shared by import, the writer's mirror step, the tailer and reads.
 * `listed` is the stream's generations when the caller has just listed the folder.
 */
export function ingestStream(
  store: Store,
  dir: string,
  stream: string,
  options?: IngestOptions,
  totals: IngestTotals = emptyTotals(),
  listed?: StreamFile[],
): IngestTotals {
  const opts = resolveIngestOptions(options);
  try {
    // A generation that ended in this pass may live on in a copy the pass did not list (a copytruncate under way).
    for (let pass = 0; pass < 3; pass++) {
      if (!ingestPass(store, dir, stream, pass === 0 && listed ? listed : streamFiles(dir, stream), opts, totals)) break;
    }
  } catch (err) {
    const code = sqliteCode(err) ?? (err as NodeJS.ErrnoException)?.code;
    if (code !== 'SQLITE_FULL' && code !== 'ENOSPC') throw err;
    throw new MirrorError('DISK_FULL', `no space left for the mirror ${store.path}; free disk space (a mirror takes about 2.4 times ` +
      'the size of its logs) and run the command again: it goes on from its last checkpoint, nothing is lost', { cause: err });
  }
  return totals;
}

/**
 * A generation the mirror has read to its end and that has not changed since
 * (same file at the same name, same size and mtime) has nothing to give: it is
 * passed over without being opened, so an unchanged folder costs a stat per file.
 */
function unchanged(store: Store, dir: string, f: StreamFile): SourceRow | undefined {
  let st: Stats | undefined;
  try {
    st = statSync(join(dir, f.name), { throwIfNoEntry: false });
    if (!st?.isFile() || lstatSync(join(dir, f.name)).isSymbolicLink()) return undefined;
  } catch {
    return undefined; // opening it says why (a symlink loop, no permission)
  }
  const src = store.sourceByInode(f.stream, st.dev, st.ino);
  if (!src || src.path !== f.name || src.mtime_ms !== st.mtimeMs) return undefined;
  // An archive never grows; its recorded size is its content's.
  if (f.compressed) return src.state === 'copy' || (src.state === 'active' && src.offset === src.size && src.tail_len === 0) ? src : undefined;
  return src.state === 'active' && src.size === st.size && src.offset === st.size && src.tail_len === 0 ? src : undefined;
}

/** One pass over the stream's files as listed; true when a generation ended and the files are worth listing again. */
function ingestPass(store: Store, dir: string, stream: string, files: StreamFile[], opts: ResolvedIngestOptions, totals: IngestTotals): boolean {
  const seen = new Set<number>();
  let replaced = false;
  let olderRank: number | undefined;
  for (const f of files) {
    const done = unchanged(store, dir, f);
    if (done) {
      totals.files++;
      seen.add(done.id);
      if (done.state === 'active') olderRank = done.rank;
      continue;
    }
    const file = openStreamFile(dir, f);
    if (!file) continue;
    if ('kind' in file) {
      totals.skipped.push(file);
      opts.onSkip?.(file);
      continue;
    }
    let kept = false;
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
          if (opts.follow && !file.compressed && after.state === 'active') {
            opts.follow.keep(r.src.id, file);
            kept = true;
          }
          break;
        }
      }
    } finally {
      if (!kept) closeSync(file.fd);
    }
  }
  drainUnlisted(store, dir, stream, seen, opts, totals);
  markGone(store, dir, stream, seen);
  return replaced;
}

/**
 * A generation is followed, not its name (invariant 6): one that is no longer
 * under any name the listing knows is read to its end before it is let go,
 * through the descriptor a long-lived ingester kept, or at the path it was
 * last seen at when its file is still there (a symlinked log's old target).
 * A kept descriptor is let go once its file is drained and idle for the
 * rotated-file grace period (its unterminated tail taken then).
 */
function drainUnlisted(store: Store, dir: string, stream: string, seen: Set<number>, opts: ResolvedIngestOptions, totals: IngestTotals): void {
  for (const src of store.knownSources(stream)) {
    if (src.state !== 'active' || seen.has(src.id)) continue;
    const kept = opts.follow?.get(src.id);
    const file = kept ?? openAtPath(dir, src);
    if (!file) continue;
    try {
      file.st = fstatSync(file.fd);
      const idle = Date.now() - file.st.mtimeMs >= opts.rotatedGraceMs;
      if (file.st.dev !== src.dev || file.st.ino !== src.ino) continue;
      const outcome = ingestFile(store, { ...file, rotation: Math.max(1, file.rotation) }, src.id, opts.final || idle, opts, totals);
      const after = store.sourceById(src.id);
      const behind = after ? lagBytes(file.st.size, after) : 0;
      totals.pendingBytes += behind;
      if (kept && (outcome !== 'done' || (behind === 0 && idle))) opts.follow!.release(src.id);
      else seen.add(src.id);
    } finally {
      if (!kept) closeSync(file.fd);
    }
  }
}

function openAtPath(dir: string, src: SourceRow): OpenFile | undefined {
  if (!statAtPath(dir, src)) return undefined;
  const f = parseStreamFile(src.path.slice(src.path.lastIndexOf('/') + 1));
  const file = openStreamFile(dir, { stream: src.stream, name: src.path, rotation: 1, compressed: f?.compressed ?? false });
  return file && !('kind' in file) ? file : undefined;
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

/** Resolution under the write lock, against the file as it is now (an archive's content does not change under us). */
function resolveLocked(store: Store, dir: string, file: OpenFile, olderRank: number | undefined, opts: ResolvedIngestOptions): Resolution {
  if (!file.compressed) file.st = fstatSync(file.fd);
  return resolveSource(store, dir, file, olderRank, opts);
}
