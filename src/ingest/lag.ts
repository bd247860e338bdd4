import { readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/api.js';
import type { StreamFile } from '../model/streams.js';

/** The mirror's lag behind one file: the bytes after the checkpoint (all of them for a file no source has read). */
export function lagBytes(size: number, src: { offset: number } | undefined): number {
  return Math.max(0, size - (src?.offset ?? 0));
}

/** Bytes of a stream file after its source's checkpoint (all of it when unknown; none for a copytruncate copy). */
export function bytesBehind(store: Store, dir: string, f: StreamFile): number {
  return lagOf(store, dir, f).bytes;
}

/**
 * How far the mirror is behind one file: bytes after the checkpoint, and since
 * when (epoch ms): the last time the checkpoint moved, or, for a file never
 * read, when it was created. Nothing written since then is in the mirror.
 */
export function lagOf(store: Store, dir: string, f: StreamFile): { bytes: number; sinceMs: number } {
  let st;
  try {
    st = statSync(join(dir, f.name), { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  if (!st?.isFile()) return { bytes: 0, sinceMs: Date.now() }; // gone since the listing, or not a log file
  const src = store.sourceByInode(f.stream, st.dev, st.ino);
  if (src?.state === 'copy') return { bytes: 0, sinceMs: Date.now() };
  const bytes = lagBytes(st.size, src);
  return { bytes, sinceMs: src ? Date.parse(src.updated_at) : st.birthtimeMs || st.ctimeMs };
}

/**
 * How long after its last write a live file's unfinished last line counts as
 * a writer mid-line (pending); past it, the writer is gone and the fragment
 * needs `import --final` (or the next writer's append) to end it.
 */
export const MID_LINE_MS = 60_000;

/** Bytes after the open file's last newline, looking no further back than `from`: a last line its writer has not ended yet. */
export function unterminatedBytes(fd: number, from: number, size: number): number {
  if (size <= from) return 0;
  const buf = Buffer.alloc(Math.min(64 * 1024, size - from));
  for (let end = size; end > from; ) {
    const start = Math.max(from, end - buf.length);
    const n = readSync(fd, buf, 0, end - start, start);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    if (nl >= 0) return size - (start + nl + 1);
    end = start;
  }
  return size - from;
}
