import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

/** How many leading bytes identify a file's content (with its device and inode). */
export const HEAD_BYTES = 1024;
/** How many bytes before a checkpoint must still match for the checkpoint to be valid. */
export const MARKER_BYTES = 64;

function hashRange(fd: number, position: number, length: number): string {
  if (length <= 0) return '';
  const buf = Buffer.allocUnsafe(length);
  const n = readSync(fd, buf, 0, length, position);
  return createHash('sha1').update(buf.subarray(0, n)).digest('hex');
}

export function headHash(fd: number, length: number): string {
  return hashRange(fd, 0, length);
}

/** The file's first bytes as they are now: how many there were (up to HEAD_BYTES) and their hash. */
export function readHead(fd: number): { len: number; hash: string } {
  const buf = Buffer.allocUnsafe(HEAD_BYTES);
  const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
  return { len: n, hash: n === 0 ? '' : createHash('sha1').update(buf.subarray(0, n)).digest('hex') };
}

export function markerHash(fd: number, offset: number): string {
  const len = Math.min(MARKER_BYTES, offset);
  return hashRange(fd, offset - len, len);
}
