import { isUtf8 } from 'node:buffer';
import { readSync } from 'node:fs';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const MIN_CHUNK_BYTES = 4 * 1024 * 1024;

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
}

function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Reads complete lines from `from` up to `to`, at most about `batchBytes`,
 * and returns the offset after the last consumed newline: the next checkpoint.
 * Never consumes past the last `\n` unless `final` (invariant 5).
 */
export function readLines(range: ReadRange, visit: LineVisitor, visitLong: LongLineVisitor): number {
  const { fd, to, final, maxLineBytes } = range;
  const chunkBytes = Math.max(MIN_CHUNK_BYTES, maxLineBytes + 1);
  let pos = range.from;
  let buf: Buffer | undefined;
  while (pos < to && pos - range.from < range.batchBytes) {
    const want = Math.min(chunkBytes, to - pos);
    if (!buf || buf.length < want) buf = Buffer.allocUnsafe(want);
    const len = readFully(fd, buf, want, pos);
    if (len === 0) break;
    const lastNl = buf.lastIndexOf(10, len - 1);
    const atEof = pos + len >= to;
    if (lastNl === -1) {
      // No newline in a whole chunk: the line is longer than any allowed line.
      if (len >= chunkBytes) {
        const sample = Buffer.from(buf.subarray(0, 256));
        const skipped = skipLongLine(fd, pos, to, final, buf);
        if (skipped === undefined) break;
        visitLong(pos, skipped.length, sample);
        pos += skipped.consumed;
        continue;
      }
      if (atEof && final) {
        emit(buf, 0, len, pos, len, maxLineBytes, isUtf8(buf.subarray(0, len)), visit, visitLong);
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
      pos += len;
      break;
    }
    pos += completeEnd;
  }
  return pos;
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
): { length: number; consumed: number } | undefined {
  let p = start;
  while (p < to) {
    const len = readFully(fd, scratch, Math.min(scratch.length, to - p), p);
    if (len === 0) break;
    const nl = scratch.subarray(0, len).indexOf(10);
    if (nl !== -1) return { length: p + nl - start, consumed: p + nl + 1 - start };
    p += len;
  }
  return final ? { length: to - start, consumed: to - start } : undefined;
}
