import { createHash } from 'node:crypto';
import { readFully, type ReadFn } from './lines.js';

/** How many leading bytes identify a file's content (with its device and inode). */
export const HEAD_BYTES = 1024;
/** How many bytes before a checkpoint must still match for the checkpoint to be valid. */
export const MARKER_BYTES = 64;

/** The one hash of heads and markers: SHA-1 hex, '' for no bytes. */
export const hashBytes = (bytes: Buffer): string => (bytes.length === 0 ? '' : createHash('sha1').update(bytes).digest('hex'));

function bytesAt(fd: number, position: number, length: number, read?: ReadFn): Buffer {
  const buf = Buffer.allocUnsafe(Math.max(0, length));
  return buf.subarray(0, readFully(fd, buf, buf.length, position, read));
}

export function headHash(fd: number, length: number): string {
  return hashBytes(bytesAt(fd, 0, length));
}

/** The file's first bytes as they are now: how many there were (up to HEAD_BYTES) and their hash. */
export function readHead(fd: number): { len: number; hash: string } {
  const head = bytesAt(fd, 0, HEAD_BYTES);
  return { len: head.length, hash: hashBytes(head) };
}

/** The bytes before `offset` that a checkpoint's marker covers, as they are in the file now. */
export function markerBytes(fd: number, offset: number, read?: ReadFn): Buffer {
  const len = Math.min(MARKER_BYTES, offset);
  return bytesAt(fd, offset - len, len, read);
}

export function markerHash(fd: number, offset: number, read?: ReadFn): string {
  return hashBytes(markerBytes(fd, offset, read));
}
