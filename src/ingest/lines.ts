import { isUtf8 } from 'node:buffer';
import { readSync } from 'node:fs';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const MIN_CHUNK_BYTES = 4 * 1024 * 1024;

/** How the ingest reads file bytes (readSync's shape); tests inject faults here, such as a truncate between two reads. */
export type ReadFn = (fd: number, buf: Buffer, offset: number, length: number, position: number) => number;

export const defaultRead: ReadFn = (fd, buf, offset, length, position) => readSync(fd, buf, offset, length, position);

/** The last MARKER bytes consumed: a checkpoint's marker is computed from the bytes actually read, never re-read later. */
export class LastBytes {
  private bytes: Buffer;
  constructor(initial: Buffer = Buffer.alloc(0), private readonly keep = 64) {
    this.bytes = Buffer.from(initial.subarray(Math.max(0, initial.length - keep)));
  }

  push(buf: Buffer, start: number, end: number): void {
    if (end - start >= this.keep) this.bytes = Buffer.from(buf.subarray(end - this.keep, end));
    else if (end > start) {
      const joined = Buffer.concat([this.bytes, buf.subarray(start, end)]);
      this.bytes = Buffer.from(joined.subarray(Math.max(0, joined.length - this.keep)));
    }
  }

  get value(): Buffer {
    return this.bytes;
  }
}

/** How many bytes readLines reads at once: a chunk always holds a whole line of the longest allowed length. */
export const readChunkBytes = (maxLineBytes: number): number => Math.max(MIN_CHUNK_BYTES, maxLineBytes + 1);

/** Called for each complete line: bytes [start, end) of `buf` sit at file offset `offset`. */
export type LineVisitor = (buf: Buffer, start: number, end: number, offset: number, utf8Checked: boolean) => void;
/** Called for a line longer than the limit, which is never held in memory whole. */
export type LongLineVisitor = (offset: number, length: number, sample: Buffer) => void;

export interface ReadRange {
  fd: number;
  from: number;
  /** File size to read up to. */
  to: number;
  /** Take an unterminated last line too (file no longer written). */
  final: boolean;
  maxLineBytes: number;
  /** Stop after the first chunk that yields at least this many bytes (a batch). */
  batchBytes: number;
  read?: ReadFn;
  /** Receives the bytes consumed, for the checkpoint's marker. */
  consumed?: LastBytes;
  /** Read into this buffer, if it is large enough (a caller that reads many batches keeps one instead of one per batch). */
  buffer?: Buffer;
}

export function readFully(fd: number, buf: Buffer, length: number, position: number, read: ReadFn = defaultRead): number {
  let got = 0;
  while (got < length) {
    const n = read(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Reads complete lines from `from` up to `to`, at most about `batchBytes`,
 * and returns the offset after the last consumed newline: the next checkpoint.
 * Never consumes past the last `\n` unless `final` (docs/design.md#invariant-5).
 */
export function readLines(range: ReadRange, visit: LineVisitor, visitLong: LongLineVisitor): number {
  const { fd, to, final, maxLineBytes, consumed } = range;
  const read = range.read ?? defaultRead;
  const chunkBytes = readChunkBytes(maxLineBytes);
  let pos = range.from;
  let buf = range.buffer;
  while (pos < to && pos - range.from < range.batchBytes) {
    const want = Math.min(chunkBytes, to - pos);
    if (!buf || buf.length < want) buf = Buffer.allocUnsafe(want);
    const len = readFully(fd, buf, want, pos, read);
    if (len === 0) break;
    const lastNl = buf.lastIndexOf(10, len - 1);
    const atEof = pos + len >= to;
    if (lastNl === -1) {
      // No newline in a whole chunk: the line is longer than any allowed line.
      if (len >= chunkBytes) {
        const sample = Buffer.from(buf.subarray(0, 256));
        const skipped = skipLongLine(fd, pos, to, final, buf, read, consumed);
        if (skipped === undefined) break;
        visitLong(pos, skipped.length, sample);
        pos += skipped.consumed;
        continue;
      }
      if (atEof && final) {
        emit(buf, 0, len, pos, len, maxLineBytes, isUtf8(buf.subarray(0, len)), visit, visitLong);
        consumed?.push(buf, 0, len);
        pos += len;
      }
      break;
    }
    const completeEnd = lastNl + 1;
    const utf8 = isUtf8(buf.subarray(0, completeEnd));
    let s = 0;
    while (s < completeEnd) {
      const nl = buf.indexOf(10, s);
      emit(buf, s, nl, pos + s, nl - s, maxLineBytes, utf8, visit, visitLong);
      s = nl + 1;
    }
    if (atEof && final && completeEnd < len) {
      emit(buf, completeEnd, len, pos + completeEnd, len - completeEnd, maxLineBytes, false, visit, visitLong);
      consumed?.push(buf, 0, len);
      pos += len;
      break;
    }
    consumed?.push(buf, 0, completeEnd);
    pos += completeEnd;
  }
  return pos;
}

/** The UTF-8 byte-order mark some Windows tools (PowerShell's Out-File) put at the start of a file. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Bytes of a byte-order mark that begins the line at `offset`: only the file's first line can have one. */
export function bomAt(buf: Buffer, s: number, e: number, offset: number): number {
  return offset === 0 && e - s >= 3 && buf[s] === BOM[0] && buf[s + 1] === BOM[1] && buf[s + 2] === BOM[2] ? 3 : 0;
}

function emit(
  buf: Buffer,
  s: number,
  e: number,
  offset: number,
  length: number,
  maxLineBytes: number,
  utf8: boolean,
  visit: LineVisitor,
  visitLong: LongLineVisitor,
): void {
  // An encoding mark, not part of the first line: the line keeps its offset, its text starts after the mark.
  const bom = bomAt(buf, s, e, offset);
  s += bom;
  length -= bom;
  if (length > maxLineBytes) visitLong(offset, length, buf.subarray(s, Math.min(e, s + 256)));
  else visit(buf, s, e, offset, utf8);
}

/** Finds the end of an over-long line starting at `start`; undefined while it is still unterminated. */
function skipLongLine(
  fd: number,
  start: number,
  to: number,
  final: boolean,
  scratch: Buffer,
  read: ReadFn,
  last: LastBytes | undefined,
): { length: number; consumed: number } | undefined {
  // Pushed into a copy so that a line still unterminated leaves `last` as it was.
  const seen = new LastBytes(last?.value);
  let p = start;
  while (p < to) {
    const len = readFully(fd, scratch, Math.min(scratch.length, to - p), p, read);
    if (len === 0) break;
    const nl = scratch.subarray(0, len).indexOf(10);
    if (nl !== -1) {
      seen.push(scratch, 0, nl + 1);
      last?.push(seen.value, 0, seen.value.length);
      return { length: p + nl - start, consumed: p + nl + 1 - start };
    }
    seen.push(scratch, 0, len);
    p += len;
  }
  if (!final) return undefined;
  last?.push(seen.value, 0, seen.value.length);
  return { length: to - start, consumed: to - start };
}
