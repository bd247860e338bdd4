import { createHash } from 'node:crypto';
import type { Store } from '../store/api.js';
import type { SourceRow } from '../store/rows.js';
import { bomAt, defaultRead, readFully, type ReadFn } from './lines.js';
import { sampleOf } from './parse-line.js';

/**
 * Lines the mirror already holds (docs/design.md#invariant-6). Every generation of a stream
 * is a sequence of lines: its own rows (events and rejects, by byte offset),
 * preceded by a held prefix that is a run of an earlier generation's lines.
 * A new generation whose first lines equal consecutive lines of an earlier
 * one (a copytruncate copy, a suffix kept by `tail -n K`, a file rewritten
 * in place that kept its start) holds those lines instead of mirroring them
 * again. The comparison is exact: event rows keep their line's text, rejects
 * the hash of theirs.
 */

/** One line of a generation as the mirror holds it: an event's text, or a reject's hash, length and sample. */
export interface HeldRow {
  offset: number;
  line: string | null;
  hash: string | null;
  length: number | null;
  sample: string | null;
}

export function lineHash(buf: Buffer, start: number, end: number): string {
  return createHash('sha1').update(buf.subarray(start, end)).digest('hex');
}

const PAGE = 512;

/**
 * The lines `src` holds with offsets in [from, to) of its own file, oldest
 * first, at most about `limit`: the held prefix from the generation it copies,
 * then its own rows.
 */
export function heldRows(store: Store, src: SourceRow, from: number, to: number, limit = PAGE): HeldRow[] {
  const out: HeldRow[] = [];
  if (src.copy_of !== null && from < src.held_len) {
    const parent = store.sourceById(src.copy_of);
    if (parent) {
      const rows = heldRows(store, parent, src.held_at + from, src.held_at + Math.min(to, src.held_len), limit);
      for (const r of rows) out.push({ ...r, offset: r.offset - src.held_at });
      if (rows.length >= limit) return out;
    }
  }
  const lo = Math.max(from, src.held_len);
  if (to <= lo || out.length >= limit) return out;
  const n = limit - out.length;
  const events = store.ownEvents(src.id, lo, to, n);
  const rejects = store.ownRejects(src.id, lo, to, n);
  // Both lists are complete up to the last offset of a list that was cut short by the limit.
  const cut = Math.min(events.length === n ? events.at(-1)!.offset : Infinity, rejects.length === n ? rejects.at(-1)!.offset : Infinity);
  const merged: HeldRow[] = [
    ...events.map((e) => ({ offset: e.offset, line: e.line, hash: null, length: null, sample: null })),
    ...rejects.map((r) => ({ offset: r.offset, line: null, hash: r.hash, length: r.length, sample: r.sample })),
  ].filter((r) => r.offset <= cut);
  merged.sort((a, b) => a.offset - b.offset);
  for (const r of merged) out.push(r);
  return out;
}

/** A complete line of a file: bytes [start, end) and the offset after its newline; `long` for one beyond the line limit. */
interface FileLine {
  start: number;
  end: number;
  next: number;
  bytes?: Buffer;
  long?: Buffer;
}

/** Reads a file's complete lines from any offset, a window at a time. */
export class LineCursor {
  private buf = Buffer.alloc(0);
  private bufPos = 0;
  private bufLen = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly maxLineBytes: number,
    private readonly read: ReadFn = defaultRead,
  ) {}

  private fill(pos: number, want: number): void {
    if (pos >= this.bufPos && pos + want <= this.bufPos + this.bufLen) return;
    const len = Math.min(Math.max(want, 64 * 1024), this.size - pos);
    if (this.buf.length < len) this.buf = Buffer.allocUnsafe(len);
    this.bufPos = pos;
    this.bufLen = readFully(this.fd, this.buf, len, pos, this.read);
  }

  /** The offset after the first newline at or after `pos`, or undefined when there is none. */
  nextLineStart(pos: number): number | undefined {
    for (let p = pos; p < this.size; ) {
      this.fill(p, Math.min(64 * 1024, this.size - p));
      if (this.bufLen === 0) return undefined;
      const nl = this.buf.subarray(p - this.bufPos, this.bufLen).indexOf(10);
      if (nl !== -1) return p + nl + 1;
      p = this.bufPos + this.bufLen;
    }
    return undefined;
  }

  /** The complete line at `pos`, or undefined when the file has no newline after it (yet). */
  at(pos: number): FileLine | undefined {
    let want = 64 * 1024;
    for (;;) {
      if (pos >= this.size) return undefined;
      want = Math.min(want, this.size - pos);
      this.fill(pos, want);
      const s = pos - this.bufPos;
      const avail = this.bufLen - s;
      const nl = avail > 0 ? this.buf.subarray(s, s + avail).indexOf(10) : -1;
      if (nl !== -1 && nl <= this.maxLineBytes) {
        // As the line reader sees it: a byte-order mark opening the file is not part of its first line.
        const bom = bomAt(this.buf, s, s + nl, pos);
        return { start: pos + bom, end: pos + nl, next: pos + nl + 1, bytes: this.buf.subarray(s + bom, s + nl) };
      }
      if (nl !== -1 || avail > this.maxLineBytes) return this.longLine(pos);
      // The end of the file, also when it is shorter now than when the cursor was made (truncated meanwhile).
      if (avail < want || pos + avail >= this.size) return undefined;
      want = Math.min(want * 2, this.maxLineBytes + 1);
    }
  }

  /** A line longer than the limit: its length and first bytes, never held whole. */
  private longLine(pos: number): FileLine | undefined {
    const sample = Buffer.from(this.buf.subarray(pos - this.bufPos, pos - this.bufPos + 256));
    let p = pos;
    for (;;) {
      this.fill(p, Math.min(4 * 1024 * 1024, this.size - p));
      const nl = this.buf.subarray(p - this.bufPos, this.bufLen).indexOf(10);
      if (nl !== -1) return { start: pos, end: p + nl, next: p + nl + 1, long: sample };
      p = this.bufPos + this.bufLen;
      if (p >= this.size || this.bufLen === 0) return undefined;
    }
  }
}

function isBlank(b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  return true;
}

function sameLine(l: FileLine, row: HeldRow): boolean {
  const length = l.end - l.start;
  if (l.long) return row.line === null && row.length === length && row.sample === sampleOf(l.long, 0, l.long.length);
  const bytes = l.bytes!;
  if (row.line !== null) return Buffer.byteLength(row.line) === length && bytes.equals(Buffer.from(row.line));
  if (row.length !== length) return false;
  return row.hash !== null ? row.hash === lineHash(bytes, 0, bytes.length) : row.sample === sampleOf(bytes, 0, bytes.length);
}

/**
 * Does `parent` hold, at its offset `at`, the line that is bytes [s, e) of
 * `buf`? A file rewritten in place keeps the lines it did not change at
 * their offsets: those stay the earlier generation's, past the first change.
 */
export function holdsLineAt(store: Store, parent: SourceRow, at: number, buf: Buffer, s: number, e: number): boolean {
  const row = heldRows(store, parent, at, at + 1, 1)[0];
  return row !== undefined && sameLine({ start: at, end: at + (e - s), next: at + (e - s) + 1, bytes: buf.subarray(s, e) }, row);
}

export type RunEnd = 'mismatch' | 'parent-end' | 'file-end';

/** How far a file, from byte `from`, goes on repeating `parent`'s lines from the parent's byte `from + shift`. */
export interface Run {
  /** The file offset up to which its lines are the parent's. */
  held: number;
  end: RunEnd;
  /** Non-blank lines matched. */
  lines: number;
  /** Of them, lines the parent holds as rejects. */
  rejects: number;
}

/** Compares the file's lines with the lines `parent` holds, one by one, until they differ or either runs out. */
export function walk(store: Store, cursor: LineCursor, from: number, parent: SourceRow, shift: number): Run {
  let pos = from;
  let lines = 0;
  let rejects = 0;
  const end = (how: RunEnd): Run => ({ held: pos, end: how, lines, rejects });
  let rows: HeldRow[] = [];
  let i = 0;
  let fetchedTo = shift + from;
  for (;;) {
    const expect = shift + pos;
    if (expect >= parent.offset) return end('parent-end');
    while (i < rows.length && rows[i]!.offset < expect) i++;
    if (i >= rows.length && fetchedTo < parent.offset) {
      rows = heldRows(store, parent, expect, parent.offset);
      i = 0;
      fetchedTo = rows.length > 0 ? rows.at(-1)!.offset + 1 : parent.offset;
    }
    const row = rows[i];
    const l = cursor.at(pos);
    if (!l) return end('file-end');
    if (row && row.offset === expect) {
      if (!sameLine(l, row)) return end('mismatch');
      lines++;
      if (row.line === null) rejects++;
      i++;
    } else if (l.long || !isBlank(l.bytes!) || (row && row.offset < expect + (l.next - l.start))) {
      return end('mismatch');
    }
    pos = l.next;
  }
}

/** The offset of the file's first non-blank complete line and that line, or undefined when it has none yet. */
function firstLine(cursor: LineCursor): { skip: number; line: FileLine } | undefined {
  let pos = 0;
  for (;;) {
    const l = cursor.at(pos);
    if (!l) return undefined;
    if (l.long || !isBlank(l.bytes!)) return { skip: pos, line: l };
    pos = l.next;
  }
}

/** Does `s` hold lines of generation `id`, directly or through the generations it copies? */
function descendsFrom(store: Store, s: SourceRow, id: number): boolean {
  let cur: SourceRow | undefined = s;
  for (let depth = 0; cur && cur.copy_of !== null && depth < 64; depth++) {
    if (cur.copy_of === id) return true;
    cur = store.sourceById(cur.copy_of);
  }
  return false;
}

export interface Found {
  parent: SourceRow;
  shift: number;
  run: Run;
}

/**
 * The longest run of lines, from the start of a file, that an earlier
 * generation of the stream holds. A generation whose file still holds its
 * lines (`intact`) can only be copied from its start; one whose file is gone,
 * truncated or replaced may also live on as a suffix (`tail -n K`), which
 * starts within the file's size before the generation's checkpoint.
 */
export function findHeld(
  store: Store,
  cursor: LineCursor,
  src: Pick<SourceRow, 'stream' | 'id'>,
  size: number,
  intact: (s: SourceRow) => boolean,
): Found | undefined {
  const first = firstLine(cursor);
  if (!first) return undefined;
  let best: Found | undefined;
  for (const parent of store.heldCandidates(src.stream, src.id)) {
    if (descendsFrom(store, parent, src.id)) continue; // it holds our lines, not we its

    const starts = new Set<number>();
    const head = heldRows(store, parent, 0, parent.offset, 1)[0];
    if (head && sameLine(first.line, head)) starts.add(head.offset);
    if (!intact(parent)) {
      for (let lo = Math.max(0, parent.offset - size); lo < parent.offset; ) {
        const rows = heldRows(store, parent, lo, parent.offset);
        if (rows.length === 0) break;
        for (const r of rows) if (sameLine(first.line, r)) starts.add(r.offset);
        lo = rows.at(-1)!.offset + 1;
      }
    }
    for (const at of starts) {
      const shift = at - first.skip;
      if (shift < 0) continue;
      const run = walk(store, cursor, 0, parent, shift);
      if (run.lines > 0 && (!best || run.held > best.run.held)) best = { parent, shift, run };
    }
  }
  return best;
}

/**
 * How far back from the end of a kept file a copy's start is looked for.
 * `tail -n K` keeps a log's last lines; looking further back would scan a
 * large unread backlog again on every round of its drain. A larger copy made
 * in the race below is mirrored again (its lines twice), never lost.
 */
const TAKEOVER_WINDOW = 8 * 1024 * 1024;

/**
 * Where the lines `src` has not read yet become a newer generation's first
 * lines, if they do: the offset in its file from which every complete line
 * is that generation's. An ingester without descriptors (an import, a
 * writer's mirror step) that came after `tail -n K > tmp && mv tmp NAME`
 * found only the copy and mirrored its lines from it; the replaced file,
 * drained through a kept descriptor, reads only the lines before them.
 */
export function takenOverAt(store: Store, cursor: LineCursor, src: SourceRow, size: number): number | undefined {
  if (size <= src.offset) return undefined;
  const newer = store.heldCandidates(src.stream, src.id)
    .filter((s) => s.id > src.id)
    .map((s) => ({ s, first: heldRows(store, s, 0, s.offset, 1)[0] }))
    .filter((c) => c.first !== undefined);
  if (newer.length === 0) return undefined;
  // A newer generation's lines fill at most its own size at the end of our file: line starts before that cannot open them.
  const lo = Math.max(size - Math.max(...newer.map((c) => c.s.offset)), size - TAKEOVER_WINDOW);
  for (let pos = lineStartFrom(cursor, src.offset, lo), l = cursor.at(pos); l; pos = l.next, l = cursor.at(pos)) {
    for (const { s, first } of newer) {
      if (!sameLine(l, first!)) continue;
      const run = walk(store, cursor, pos, s, first!.offset - pos);
      if (run.lines > 0 && cursor.at(run.held) === undefined) return pos;
    }
  }
  return undefined;
}

/** The first line start at or after `lo`, scanning from `from` (a line start) only through the bytes just before `lo`. */
function lineStartFrom(cursor: LineCursor, from: number, lo: number): number {
  if (lo <= from) return from;
  return cursor.nextLineStart(lo - 1) ?? lo;
}
