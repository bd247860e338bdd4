import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MirrorError } from '../errors.js';
import type { LiveHint } from '../ingest/ingest-live.js';
import type { OwnLines } from '../ingest/ingest-own.js';

/** One stream's log file as the writer holds it open. */
export interface OpenStream {
  path: string;
  fd: number;
  dev: number;
  ino: number;
  /** Batched mode: appends not yet mirrored or counted as skipped. */
  pending: number;
  /** Written since the last fsync. */
  dirty: boolean;
  /** A write of ours failed or was short: the file may end in our fragment, to be ended before the next line. */
  broken: boolean;
  /** When the file's end was last checked for another writer's stale fragment. */
  checkedAt: number;
  hint?: LiveHint;
  /** The lines this writer appended since its last mirror step and the checkpoint that step left; null when not known. */
  own: OwnLines | null;
}

export function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const b = Buffer.alloc(1);
  return readSync(fd, b, 0, 1, size - 1) === 1 && b[0] === 10;
}

/**
 * Does the file end in an unterminated line nobody has written to for
 * `graceMs`? A line another program is still writing is left alone.
 */
function staleFragment(fd: number, graceMs: number, now: number): boolean {
  const st = fstatSync(fd);
  return st.size > 0 && now - st.mtimeMs >= graceMs && !endsWithNewline(fd);
}

/** How often the end of the file is looked at for a stale fragment (an fstat and a read: measurable per append). */
export const RECHECK_MS = 100;

const STREAM_RE = /^[\w.-]+$/;

/**
 * The writer's open log files, one per stream, reopened when the path names
 * another file (rotation, deletion). The path is checked before every write
 * (a stat, about 1-2 µs): logrotate's `compress` gzips and removes a renamed
 * generation at once, so a line written into it even 100 ms after the rename
 * is in no file; `echo >>` opens the path for each line and never does that.
 */
export class StreamFiles {
  private readonly open = new Map<string, OpenStream>();

  constructor(
    private readonly dir: string,
    private readonly fragmentGraceMs: number,
  ) {}

  get(stream: string): OpenStream {
    if (!STREAM_RE.test(stream)) {
      throw new MirrorError('INVALID_ARGUMENT', `stream name "${stream}" may only hold letters, digits, '_', '-' and '.'`);
    }
    const path = join(this.dir, `${stream}.jsonl`);
    let s = this.open.get(stream);
    const now = Date.now();
    let carried = 0;
    let recheck = !s;
    if (s) {
      const onDisk = statSync(path, { throwIfNoEntry: false });
      // Rotated or deleted under us: write to whatever is at the path now.
      if (!onDisk || onDisk.ino !== s.ino || onDisk.dev !== s.dev) {
        closeSync(s.fd);
        this.open.delete(stream);
        carried = s.pending; // appended, not yet counted as mirrored or skipped: the next batch counts them
        s = undefined;
      } else if (now - s.checkedAt >= RECHECK_MS) {
        s.checkedAt = now;
        recheck = true;
      }
    }
    if (!s) {
      let fd: number;
      try {
        fd = openSync(path, 'a+');
      } catch (err) {
        throw new MirrorError('WRITE_FAILED', `cannot open ${path} for appending (${(err as NodeJS.ErrnoException).code}); check the directory's permissions`, { cause: err });
      }
      // The fast path waits for a first mirror step on this file to know where its checkpoint is.
      const st = fstatSync(fd);
      s = { path, fd, dev: st.dev, ino: st.ino, pending: carried, dirty: false, broken: false, checkedAt: now, own: null };
      recheck = true;
      this.open.set(stream, s);
    }
    if (recheck && !s.broken) s.broken = staleFragment(s.fd, this.fragmentGraceMs, now);
    return s;
  }

  entries(): IterableIterator<[string, OpenStream]> {
    return this.open.entries();
  }

  values(): IterableIterator<OpenStream> {
    return this.open.values();
  }

  closeAll(): void {
    for (const s of this.open.values()) closeSync(s.fd);
    this.open.clear();
  }
}
