import { closeSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/open.js';
import type { SourceRow } from '../store/statements.js';
import { HEAD_BYTES, headHash, markerHash, readHead } from './identity.js';
import { streamFiles, type StreamFile } from './layout.js';

/**
 * File identity (invariant 6): which source row a file on disk continues.
 * A source is one generation of one file: (dev, ino) plus a hash of its first
 * bytes; its checkpoint carries a hash of the bytes just before it.
 */

export interface OpenFile extends StreamFile {
  fd: number;
  st: Stats;
}

/** `relocated`: the file's old source was found continuing in another file, which the pass has to read again. */
export type Resolution = { kind: 'ingest'; src: SourceRow; relocated?: boolean } | { kind: 'copy'; id: number };

/** The source's file when it is still at the path the source last saw it at (same device and inode). */
export function statAtPath(dir: string, src: SourceRow): Stats | undefined {
  const st = statSync(join(dir, src.path), { throwIfNoEntry: false });
  return st && st.dev === src.dev && st.ino === src.ino ? st : undefined;
}

/** A source with no rows, rejects or blank lines at checkpoint 0 (seen while its file was empty) can give way to a copy relation. */
function readNothing(src: SourceRow): boolean {
  return src.offset === 0 && src.rows + src.rejects + src.blanks === 0;
}

/** Does the open file still hold the content `src` read, up to its checkpoint? */
export function continues(fd: number, size: number, src: SourceRow): boolean {
  if (size < src.offset || size < src.head_len) return false;
  if (headHash(fd, src.head_len) !== src.head_hash) return false;
  return markerHash(fd, src.offset) === src.marker_hash;
}

/** The size of `src`'s own file when it still holds what `src` read; undefined when it does not. */
function intactSize(dir: string, src: SourceRow): number | undefined {
  let fd: number | undefined;
  try {
    if (!statAtPath(dir, src)) return undefined;
    fd = openSync(join(dir, src.path), 'r');
    const size = fstatSync(fd).size;
    return continues(fd, size, src) ? size : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A copy of an intact original is never longer than it (the original only
 * grows until it is truncated); a longer file that merely starts the same
 * way is a file of its own.
 */
function isCopyOf(dir: string, file: OpenFile, original: SourceRow): boolean {
  const size = original.state === 'active' ? intactSize(dir, original) : undefined;
  return size !== undefined && file.st.size <= size;
}

function nowIso(): string {
  return new Date().toISOString();
}

/**
 * Places a new source in log order: a live file is the newest; a rotated file
 * seen for the first time sits after the files older than it (already resolved
 * in this pass, the last of them `olderRank`) and before the newer ones.
 */
function rankFor(store: Store, file: OpenFile, olderRank: number | undefined): number {
  const max = (store.sql.get('maxRank').get(file.stream) as { r: number | null }).r;
  if (max === null) return 1;
  if (file.rotation === 0) return max + 1;
  const floor = olderRank ?? Number.NEGATIVE_INFINITY;
  const above = (store.sql.get('minRankAbove').get(file.stream, floor) as { r: number | null }).r;
  if (above === null) return max + 1;
  return olderRank === undefined ? above - 1 : (olderRank + above) / 2;
}

function insertSource(store: Store, file: OpenFile, fields: Partial<SourceRow>, olderRank: number | undefined): SourceRow {
  // What is read now, not what fstat said: the file may have been truncated since.
  const head = readHead(file.fd);
  const gen = (store.sql.get('maxGeneration').get(file.stream, file.st.dev, file.st.ino) as { g: number | null }).g;
  const info = store.sql.get('insertSource').run({
    stream: file.stream,
    kind: 'jsonl',
    path: file.name,
    dev: file.st.dev,
    ino: file.st.ino,
    generation: gen === null ? 0 : gen + 1,
    rank: rankFor(store, file, olderRank),
    head_len: head.len,
    head_hash: head.hash,
    state: 'active',
    copy_of: null,
    now: nowIso(),
    ...fields,
  });
  return store.sql.get('sourceById').get(info.lastInsertRowid) as SourceRow;
}

/** While a file is shorter than HEAD_BYTES its head hash covers less; widen it as the file grows. */
function widenHead(store: Store, file: OpenFile, src: SourceRow): SourceRow {
  if (src.head_len >= HEAD_BYTES || file.st.size <= src.head_len) return src;
  const head = readHead(file.fd);
  if (head.len <= src.head_len) return src;
  store.sql.get('setHead').run(head.len, head.hash, src.id);
  return { ...src, head_len: head.len, head_hash: head.hash };
}

/**
 * Does `file` start like `src`? By the stored head hash; for a source that has
 * read nothing yet (its file was empty when seen) the stored head is empty, so
 * compare with the bytes its file starts with now.
 */
function sameHead(dir: string, file: OpenFile, src: SourceRow): boolean {
  if (src.head_len > 0) return src.head_len <= file.st.size && headHash(file.fd, src.head_len) === src.head_hash;
  if (src.state !== 'active' || file.st.size === 0) return false;
  let fd: number | undefined;
  try {
    const st = statAtPath(dir, src);
    if (!st || st.size === 0) return false;
    fd = openSync(join(dir, src.path), 'r');
    const len = Math.min(HEAD_BYTES, st.size, file.st.size);
    return headHash(fd, len) === headHash(file.fd, len);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Finds another file of the stream that holds `src`'s content up to its checkpoint, and moves `src` there. */
function relocate(store: Store, dir: string, file: OpenFile, src: SourceRow): boolean {
  if (src.offset === 0) return false; // nothing read, nothing to continue
  for (const f of streamFiles(dir, file.stream)) {
    if (f.name === file.name) continue;
    let fd: number | undefined;
    try {
      fd = openSync(join(dir, f.name), 'r');
      const st = fstatSync(fd);
      if (st.ino === file.st.ino && st.dev === file.st.dev) continue;
      if (!continues(fd, st.size, src)) continue;
      const copy = store.sql.get('sourceByInode').get(file.stream, st.dev, st.ino) as SourceRow | undefined;
      if (copy?.state === 'copy' || (copy && readNothing(copy))) store.sql.get('deleteSource').run(copy.id);
      else if (copy) continue; // that file is some other source's
      store.sql.get('moveSource').run(f.name, st.dev, st.ino, nowIso(), src.id);
      return true;
    } catch {
      // gone since the listing
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return false;
}

function adopt(store: Store, file: OpenFile, src: SourceRow): SourceRow {
  if (src.path !== file.name || src.dev !== file.st.dev || src.ino !== file.st.ino || src.state !== 'active') {
    store.sql.get('moveSource').run(file.name, file.st.dev, file.st.ino, nowIso(), src.id);
  }
  return { ...src, path: file.name, dev: file.st.dev, ino: file.st.ino, state: 'active' };
}

/**
 * Decides which source an open file continues. Call inside a write
 * transaction, files of a stream oldest first, so that rotated copies are
 * seen before the truncated original.
 */
export function resolveSource(store: Store, dir: string, file: OpenFile, olderRank: number | undefined): Resolution {
  const { fd, st } = file;
  const known = store.sql.get('sourceByInode').get(file.stream, st.dev, st.ino) as SourceRow | undefined;
  if (known?.state === 'copy') {
    const original = known.copy_of === null ? undefined : (store.sql.get('sourceById').get(known.copy_of) as SourceRow);
    if (original && original.state !== 'replaced') {
      if (isCopyOf(dir, file, original)) return { kind: 'copy', id: known.id };
      if (continues(fd, st.size, original)) {
        // copytruncate finished: the original's unread lines live on in the copy.
        store.sql.get('deleteSource').run(known.id);
        return { kind: 'ingest', src: widenHead(store, file, adopt(store, file, original)) };
      }
    }
    store.sql.get('deleteSource').run(known.id);
    return { kind: 'ingest', src: insertSource(store, file, {}, olderRank) };
  }

  if (known) {
    // A source that has read nothing yet may be a copy first seen while it was still being written (empty), or a
    // deleted empty file whose inode a copy now reuses: check again, now that there is content; dropping it loses nothing.
    if (readNothing(known) && st.size > 0) {
      const copy = asCopy(store, dir, file, olderRank, known.id);
      if (copy) {
        store.sql.get('deleteSource').run(known.id);
        return copy;
      }
    }
    if (continues(fd, st.size, known)) {
      // Renamed (rotation) or back from gone: same content, same source.
      return { kind: 'ingest', src: widenHead(store, file, adopt(store, file, known)) };
    }
    // Truncated or replaced in place. A copytruncate that happened after this pass listed the directory left its copy
    // unlisted: if another file continues the source, the source moves there; else it is given up.
    const moved = relocate(store, dir, file, known);
    if (!moved) store.sql.get('setState').run('replaced', nowIso(), known.id);
    return { kind: 'ingest', src: insertSource(store, file, {}, olderRank), relocated: moved };
  }

  // An inode we have not seen: a new file, or a copy of a known one.
  return asCopy(store, dir, file, olderRank) ?? { kind: 'ingest', src: insertSource(store, file, {}, olderRank) };
}

/** Is this file a copy of a known source (copytruncate): still a duplicate, or now its continuation? */
function asCopy(store: Store, dir: string, file: OpenFile, olderRank: number | undefined, except?: number): Resolution | undefined {
  const { fd, st } = file;
  for (const original of store.sql.get('knownSources').all(file.stream) as SourceRow[]) {
    if (original.id === except || original.state === 'copy' || (original.dev === st.dev && original.ino === st.ino)) continue;
    if (!sameHead(dir, file, original)) continue;
    if (isCopyOf(dir, file, original)) {
      return { kind: 'copy', id: insertSource(store, file, { state: 'copy', copy_of: original.id }, olderRank).id };
    }
    if (continues(fd, st.size, original)) {
      return { kind: 'ingest', src: widenHead(store, file, adopt(store, file, original)) };
    }
  }
  return undefined;
}

