import { closeSync, constants, existsSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { MirrorError, sqliteCode } from '../errors.js';
import type { Store } from '../store/api.js';
import { ingestFile } from './ingest-file.js';
import { lagBytes } from './lag.js';
import type { StreamFile } from '../model/streams.js';
import { openInflated } from './gunzip.js';
import { streamFiles } from './layout.js';
import {
  emptyTotals, resolveIngestOptions, type IngestOptions, type IngestTotals, type ResolvedIngestOptions, type Skipped,
} from './options.js';
import { LineCursor, takenOverAt } from './held.js';
import { continuedElsewhere, continues, resolveSource, statAtPath, type OpenFile, type Resolution } from './sources.js';
import type { SourceRow } from '../store/rows.js';

/**
 * Opens a stream file for reading, or says why not. A FIFO is never opened
 * (opening it would wait for a writer); O_NONBLOCK guards against a file
 * swapped for one between the stat and the open. A `.gz` generation is read
 * through its inflated content, under the archive's own identity.
 */
export function openStreamFile(dir: string, f: StreamFile): OpenFile | Skipped | undefined {
  const path = join(dir, f.name);
  let fd: number;
  let pre: Stats | undefined;
  try {
    pre = statSync(path, { throwIfNoEntry: false });
    if (!pre) return undefined; // rotated or deleted since the listing
    if (!pre.isFile()) return notRegular(path, pre);
    if (f.compressed) return openCompressed(path, f, pre);
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

/** A gzip generation: its archive's device, inode and mtime, its content's size. */
function openCompressed(path: string, f: StreamFile, pre: Stats): OpenFile | Skipped | undefined {
  const inflated = openInflated(path, pre);
  if ('error' in inflated) {
    // gzip writes the archive beside the file and removes the file when done: one still beside it is not finished yet.
    if (inflated.error === 'ENOENT' || existsSync(path.slice(0, -'.gz'.length))) return undefined;
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
 * (docs/design.md#invariant-2) shared by import, the writer's mirror step, the tailer and reads.
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
  // Each file once, by its source, however many passes read it (a file renamed between two is still one).
  const files = new Set<number>();
  try {
    // A generation that ended in this pass may live on in a copy the pass did not list (a copytruncate under way).
    for (let pass = 0; pass < 3; pass++) {
      if (!ingestPass(store, dir, stream, pass === 0 && listed ? listed : streamFiles(dir, stream), opts, totals, files)) break;
    }
    totals.files += files.size;
  } catch (err) {
    const code = sqliteCode(err) ?? (err as NodeJS.ErrnoException)?.code;
    if (code !== 'SQLITE_FULL' && code !== 'ENOSPC') throw err;
    throw new MirrorError('DISK_FULL', `no space left for the mirror ${store.path}; free disk space${sizeHint(store)} and run the command ` +
      'again: it goes on from its last checkpoint, nothing is lost', { cause: err });
  }
  return totals;
}

/** How much room this mirror takes for the logs it holds, measured on it (it depends on the lines: no fixed figure holds). */
function sizeHint(store: Store): string {
  try {
    const read = store.allSources().reduce((n, src) => n + src.offset, 0);
    const onDisk = ['', '-wal'].reduce((n, ext) => n + (statSync(`${store.path}${ext}`, { throwIfNoEntry: false })?.size ?? 0), 0);
    if (read === 0 || onDisk === 0) return '';
    return ` (this mirror takes ${(onDisk / read).toFixed(1)} times the size of the logs it holds so far)`;
  } catch {
    return '';
  }
}

/**
 * A generation the mirror has read to its end and that has not changed since
 * (same file at the same name, same size and mtime) has nothing to give: it is
 * passed over without being opened, so an unchanged folder costs a stat per file.
 */
function unchanged(store: Store, f: StreamFile, st: Stats | undefined): SourceRow | undefined {
  if (!st?.isFile()) return undefined;
  const src = store.sourceByInode(f.stream, st.dev, st.ino);
  if (!src || src.mtime_ms !== st.mtimeMs) return undefined;
  // An archive never grows; its recorded size is its content's. Held whole, or read whole, it has nothing left to give,
  // also under its next name (logrotate renumbers .N.gz at every rotation): the rename is recorded without reading it.
  if (f.compressed) {
    const whole = src.state === 'copy' ? src.held_len === src.size : src.state === 'active' && src.offset === src.size && src.tail_len === 0;
    if (!whole) return undefined;
    if (src.path !== f.name) store.transaction(() => store.moveSource(src.id, f.name, st.dev, st.ino, src.state, new Date().toISOString()))();
    return src;
  }
  return src.path === f.name && src.state === 'active' && src.size === st.size && src.offset === st.size && src.tail_len === 0 ? src : undefined;
}

/** A file's stat, or undefined when it is gone or cannot be stat'ed (opening it then says why: a symlink loop, no permission). */
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function sameFile(a: Stats, b: Stats | undefined): boolean {
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** What reading one open file did: the source it is (or the copy), its rank, and how much is left behind. */
interface FileRead {
  id: number;
  rank?: number;
  /** A generation ended here (truncated or replaced), so its copy may be in a file this pass did not list. */
  replaced: boolean;
  behind: number;
  /** An ordinary generation, read from its own file (not a copy waiting on another). */
  active: boolean;
}

/** Resolves an open file to its generation and reads it from the checkpoint; a file that changed under us is resolved again. */
function readOpenFile(store: Store, dir: string, file: OpenFile, olderRank: number | undefined, opts: ResolvedIngestOptions, totals: IngestTotals): FileRead {
  const idle = Date.now() - file.st.mtimeMs >= opts.rotatedGraceMs;
  // An archive never grows: its unterminated last line is final at once.
  const final = opts.final || file.compressed || (file.rotation > 0 && idle);
  let read: FileRead | undefined;
  let replaced = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = store.transaction(resolveLocked)(store, dir, file, olderRank, opts);
    if (r.replaced) replaced = true;
    if (r.kind === 'copy') return { id: r.id, replaced, behind: 0, active: false };
    read = { id: r.src.id, rank: r.src.rank, replaced, behind: 0, active: false };
    const outcome = ingestFile(store, file, r.src.id, final, opts, totals);
    if (outcome !== 'invalid') {
      const after = store.sourceById(r.src.id)!;
      return { ...read, behind: lagBytes(file.st.size, after), active: after.state === 'active' };
    }
  }
  return read!;
}

/** One pass over the stream's files as listed; true when a generation ended and the files are worth listing again. */
function ingestPass(
  store: Store, dir: string, stream: string, files: StreamFile[], opts: ResolvedIngestOptions, totals: IngestTotals, counted: Set<number>,
): boolean {
  const seen = new Set<number>();
  // Generations renamed out of the listing are older than every file in it, which may hold copies of their lines: first.
  // One stat per listed file serves both: which inodes the listing holds, and which files need no reading.
  const stats = files.map((f) => statOrUndefined(join(dir, f.name)));
  drainUnlisted(store, stream, stats, seen, opts, totals);
  let replaced = false;
  let olderRank: number | undefined;
  for (const [i, f] of files.entries()) {
    const done = unchanged(store, f, stats[i]);
    if (done) {
      counted.add(done.id);
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
    if (!sameFile(file.st, stats[i])) {
      // Renamed over since the listing (`tail -n K > tmp && mv tmp NAME`): the kept generation it replaced is older and
      // may hold its lines unread, so it is drained first, or this file would mirror them again as its own.
      stats[i] = file.st;
      drainUnlisted(store, stream, stats, seen, opts, totals);
    }
    let kept = false;
    try {
      const r = readOpenFile(store, dir, file, olderRank, opts, totals);
      counted.add(r.id);
      seen.add(r.id);
      if (r.rank !== undefined) olderRank = r.rank;
      if (r.replaced) replaced = true;
      totals.pendingBytes += r.behind;
      if (opts.follow && !file.compressed && r.active) {
        opts.follow.keep(r.id, file);
        kept = true;
      }
    } finally {
      if (!kept) closeSync(file.fd);
    }
  }
  markGone(store, dir, stream, seen);
  return replaced;
}

/**
 * A generation is followed, not its name (docs/design.md#invariant-6): one that is no longer
 * under any name the listing knows (renamed or moved away, a symlinked log's
 * old target) is read to its end, through the descriptor a long-lived
 * ingester kept, before it is let go: once drained and idle for the
 * rotated-file grace period (its unterminated tail taken then). One found
 * truncated or rewritten is let go: it is no longer the generation it was kept for.
 * Its last lines may already be a newer generation's, read from a copy by an
 * ingester that could not read them here: it stops where they begin.
 */
function drainUnlisted(
  store: Store, stream: string, listed: (Stats | undefined)[], seen: Set<number>, opts: ResolvedIngestOptions, totals: IngestTotals,
): void {
  // Only a long-lived ingester keeps descriptors; an import or a read's catch-up has nothing to drain.
  const follow = opts.follow;
  if (!follow) return;
  const inodes = new Set(listed.filter((st) => st !== undefined).map((st) => `${st.dev}:${st.ino}`));
  for (const known of store.knownSources(stream)) {
    if ((known.state !== 'active' && known.state !== 'gone') || inodes.has(`${known.dev}:${known.ino}`)) continue;
    const kept = follow.get(known.id);
    if (!kept) continue;
    kept.st = fstatSync(kept.fd);
    // Truncated or rewritten before it was moved: what it holds now is no longer the generation it was kept for.
    if (!continues(kept.fd, kept.st.size, known)) {
      follow.release(known.id);
      continue;
    }
    const size = kept.st.size;
    const endOf = (s: SourceRow): number | undefined => takenOverAt(store, new LineCursor(kept.fd, size, opts.maxLineBytes, opts.read), s, size);
    const upTo = endOf(known);
    const src = upTo === known.offset ? undefined : stillOurs(store, known);
    if (!src) {
      follow.release(known.id);
      continue;
    }
    const idle = Date.now() - kept.st.mtimeMs >= opts.rotatedGraceMs;
    // Asked again inside each batch, under the write lock: an import may mirror the copy meanwhile.
    const outcome = ingestFile(store, { ...kept, rotation: Math.max(1, kept.rotation) }, src.id, opts.final || idle, opts, totals, true, endOf);
    const after = store.sourceById(src.id);
    const behind = after ? lagBytes(upTo ?? kept.st.size, after) : 0;
    totals.pendingBytes += behind;
    if (outcome === 'done' && after?.state === 'active' && (behind > 0 || (upTo === undefined && !idle))) {
      seen.add(src.id);
      follow.draining(src.id);
    } else follow.release(src.id);
  }
}

/**
 * The generation a kept descriptor still reads, active again if an ingester
 * without descriptors (an import) marked it gone because no name leads to its
 * file any more (a symlink switched, a rename out of the folder): its lines
 * after the checkpoint are only here. Not when a copy already read on from
 * the checkpoint: those lines are the copy's.
 */
function stillOurs(store: Store, src: SourceRow): SourceRow | undefined {
  return src.state === 'active' ? src : store.transaction(reviveLocked)(store, src.id);
}

function reviveLocked(store: Store, id: number): SourceRow | undefined {
  const now = store.sourceById(id);
  if (!now || now.state !== 'gone' || continuedElsewhere(store, now)) return undefined;
  store.setState(id, 'active', new Date().toISOString());
  return store.sourceById(id);
}

/**
 * Sources whose file was not found are kept as history (docs/design.md#invariant-1), marked
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
