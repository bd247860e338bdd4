import { closeSync, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/api.js';
import type { SourceRow } from '../store/rows.js';
import { findHeld, LineCursor, walk } from './held.js';
import { HEAD_BYTES, headHash, markerHash, readHead } from './identity.js';
import type { StreamFile } from '../model/streams.js';
import type { ReadFn } from './lines.js';
import { listStreams } from './layout.js';

/**
 * File identity (docs/design.md#invariant-6): which source row a file on disk continues.
 * A source is one generation of one file: (dev, ino) plus a hash of its first
 * bytes; its checkpoint carries a hash of the bytes just before it.
 */

export interface OpenFile extends StreamFile {
  fd: number;
  st: Stats;
}

/**
 * `ingest`: read the file from `src`'s checkpoint. `copy`: every line the file
 * has is held by an earlier generation, which is still read elsewhere.
 * `replaced`: the file's previous generation ended here, so a copy of it may
 * have appeared that this pass did not list.
 */
export type Resolution = { kind: 'ingest'; src: SourceRow; replaced?: boolean } | { kind: 'copy'; id: number; replaced?: boolean };

/** The source's file when it is still at the path the source last saw it at (same device and inode). */
export function statAtPath(dir: string, src: SourceRow): Stats | undefined {
  const st = statSync(join(dir, src.path), { throwIfNoEntry: false });
  return st && st.dev === src.dev && st.ino === src.ino ? st : undefined;
}

/** A generation that has read nothing yet may still turn out to hold an earlier generation's lines. */
function readNothing(src: SourceRow): boolean {
  return src.offset === 0 && src.rows + src.rejects + src.blanks === 0 && src.copy_of === null;
}

/** Does the open file still hold the content `src` read, up to its checkpoint? */
export function continues(fd: number, size: number, src: SourceRow): boolean {
  if (size < src.offset || size < src.head_len) return false;
  if (headHash(fd, src.head_len) !== src.head_hash) return false;
  return markerHash(fd, src.offset) === src.marker_hash;
}

/** Is `src` still being read from its own file: active, at its path, holding what it read? */
export function intact(dir: string, src: SourceRow): boolean {
  if (src.state !== 'active') return false;
  let fd: number | undefined;
  try {
    if (!statAtPath(dir, src)) return false;
    fd = openSync(join(dir, src.path), 'r');
    return continues(fd, fstatSync(fd).size, src);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Sources the mirror still reads as active whose file is on disk neither at
 * the path they were last seen at nor under any name of the stream's
 * generations: deleted since the last ingest (which would mark them gone).
 */
export function missingSources(store: Store, dir: string): SourceRow[] {
  const onDisk = new Set<string>();
  for (const list of listStreams(dir).values()) {
    for (const f of list) {
      const st = statSync(join(dir, f.name), { throwIfNoEntry: false });
      if (st) onDisk.add(`${st.dev}:${st.ino}`);
    }
  }
  return store.allSources().filter((s) => s.kind === 'jsonl' && s.state === 'active' && !onDisk.has(`${s.dev}:${s.ino}`) && !statAtPath(dir, s));
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
  const max = store.maxRank(file.stream);
  if (max === null) return 1;
  if (file.rotation === 0) return max + 1;
  const floor = olderRank ?? Number.NEGATIVE_INFINITY;
  const above = store.minActiveRankAbove(file.stream, floor);
  if (above === null) return max + 1;
  return olderRank === undefined ? above - 1 : (olderRank + above) / 2;
}

/**
 * Places a source that has read nothing, which no row ties to its rank yet.
 * A rotated copy goes right after the generation it copies: its own lines
 * were written after the ones it holds and before anything newer, but a
 * copytruncate copy is listed (and ranked) before the live file it copied
 * has been seen truncated. Any other goes where its name puts it when it
 * sits below that: an empty file the mirror saw whose inode a later file
 * took over is adopted with its old rank.
 */
function placeUnread(store: Store, file: OpenFile, src: SourceRow, olderRank: number | undefined, parent: SourceRow | undefined): SourceRow {
  let rank = src.rank;
  if (parent && file.rotation > 0) {
    const next = store.nextRank(file.stream, parent.rank, src.id);
    rank = next === null ? parent.rank + 1 : (parent.rank + next) / 2;
  } else if (file.rotation === 0 ? store.maxRank(file.stream) !== src.rank : olderRank !== undefined && src.rank <= olderRank) {
    rank = rankFor(store, file, olderRank);
  }
  if (rank === src.rank) return src;
  store.setRank(src.id, rank);
  return { ...src, rank };
}

function insertSource(store: Store, file: OpenFile, olderRank: number | undefined): SourceRow {
  // What is read now, not what fstat said: the file may have been truncated since.
  const head = readHead(file.fd);
  const gen = store.maxGeneration(file.stream, file.st.dev, file.st.ino);
  return store.insertSource({
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
  });
}

/** While a file is shorter than HEAD_BYTES its head hash covers less; widen it as the file grows. */
function widenHead(store: Store, file: OpenFile, src: SourceRow): SourceRow {
  if (src.head_len >= HEAD_BYTES || file.st.size <= src.head_len) return src;
  const head = readHead(file.fd);
  if (head.len <= src.head_len) return src;
  store.setHead(src.id, head.len, head.hash);
  return { ...src, head_len: head.len, head_hash: head.hash };
}

function adopt(store: Store, file: OpenFile, src: SourceRow): SourceRow {
  const state = src.state === 'copy' ? 'copy' : 'active';
  if (src.path !== file.name || src.dev !== file.st.dev || src.ino !== file.st.ino || src.state !== state) {
    store.moveSource(src.id, file.name, file.st.dev, file.st.ino, state, nowIso());
  }
  return { ...src, path: file.name, dev: file.st.dev, ino: file.st.ino, state };
}

/**
 * Head and marker cannot see a file rewritten in place to the same length
 * with the same start and end; its mtime moves while its size does not grow.
 * Then every line up to the checkpoint is compared with what the mirror holds.
 */
function unchangedInPlace(store: Store, file: OpenFile, src: SourceRow, cursor: LineCursor): boolean {
  if (src.offset === 0 || file.st.size !== src.size || file.st.mtimeMs === src.mtime_ms) return true;
  if (src.mtime_ms !== 0 && walk(store, cursor, 0, src, 0).held < src.offset) return false;
  store.setSeen(src.id, file.st.size, file.st.mtimeMs);
  return true;
}

/**
 * A generation whose lines another generation took over from its checkpoint
 * on is closed: a file that looks like it again (its inode reused by a copy,
 * say) is a new generation, which finds the lines it holds like any other.
 */
export function continuedElsewhere(store: Store, src: SourceRow): boolean {
  return src.offset > 0 && store.continuedFrom(src.id, src.offset);
}

/**
 * Moves a generation that holds an earlier one's lines along them: its held
 * prefix grows while its lines go on being the earlier generation's, and it
 * waits while they are lines that generation's own file still holds unread.
 * Once its lines are its own, it becomes an ordinary generation read from
 * the end of its held prefix.
 */
function follow(store: Store, dir: string, file: OpenFile, src: SourceRow, cursor: LineCursor, read: ReadFn): SourceRow {
  const parent = src.copy_of === null ? undefined : store.sourceById(src.copy_of);
  let held = src.held_len;
  let following = false;
  if (parent) {
    const run = walk(store, cursor, src.held_len, parent, src.held_at);
    held = run.held;
    if (run.end === 'file-end') following = true;
    else if (run.end === 'parent-end' && intact(dir, parent)) following = stillAhead(dir, file, held, parent, src.held_at, read);
  }
  const state = following ? 'copy' : 'active';
  const marker = markerHash(file.fd, held);
  store.follow(src.id, {
    state, copyOf: src.copy_of, heldAt: src.held_at, heldLen: held, offset: held, marker, size: file.st.size, mtimeMs: file.st.mtimeMs, at: nowIso(),
  });
  return { ...src, state, held_len: held, offset: held, marker_hash: marker, size: file.st.size, mtime_ms: file.st.mtimeMs };
}

/** Are the file's bytes after `held` the bytes the parent's own file holds next (not read yet), so the parent reads them? */
function stillAhead(dir: string, file: OpenFile, held: number, parent: SourceRow, shift: number, read: ReadFn): boolean {
  const len = Math.min(file.st.size - held, 64 * 1024);
  if (len <= 0) return true;
  let fd: number | undefined;
  try {
    fd = openSync(join(dir, parent.path), 'r');
    const mine = Buffer.allocUnsafe(len);
    const theirs = Buffer.allocUnsafe(len);
    const a = read(file.fd, mine, 0, len, held);
    const b = read(fd, theirs, 0, len, held + shift);
    return a === len && b === len && mine.equals(theirs);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Decides which generation an open file continues, and how much of it the
 * mirror already holds. Call inside a write transaction, files of a stream
 * oldest first.
 */
export function resolveSource(
  store: Store,
  dir: string,
  file: OpenFile,
  olderRank: number | undefined,
  opts: { maxLineBytes: number; read: ReadFn },
): Resolution {
  const { fd, st } = file;
  const cursor = new LineCursor(fd, st.size, opts.maxLineBytes, opts.read);
  const known = store.sourceByInode(file.stream, st.dev, st.ino);
  let src: SourceRow;
  let replaced = false;
  if (known && !continuedElsewhere(store, known) && continues(fd, st.size, known) && unchangedInPlace(store, file, known, cursor)) {
    // Renamed (rotation) or back from gone: same content, same generation.
    src = widenHead(store, file, adopt(store, file, known));
  } else {
    // Truncated or replaced in place: a new generation, which may start with lines of the old one.
    if (known) {
      // Its inode at another name is a new file that reused a deleted one's: the old generation is gone, not replaced.
      if (known.state !== 'gone') store.setState(known.id, known.path === file.name ? 'replaced' : 'gone', nowIso());
      replaced = true;
    }
    src = insertSource(store, file, olderRank);
  }
  if (src.state === 'active' && readNothing(src)) {
    const found = findHeld(store, cursor, src, st.size, (s) => intact(dir, s));
    src = placeUnread(store, file, src, olderRank, found?.parent);
    if (found) src = { ...src, state: 'copy', copy_of: found.parent.id, held_at: found.shift, held_len: 0 };
  }
  if (src.state === 'copy') {
    src = follow(store, dir, file, src, cursor, opts.read);
    if (src.state === 'copy') return { kind: 'copy', id: src.id, replaced };
  }
  return { kind: 'ingest', src, replaced };
}
