import { closeSync } from 'node:fs';
import type { Store } from '../store/api.js';
import type { OpenFile } from './sources.js';

/**
 * The generations a long-lived ingester (the tailer) keeps open, one
 * descriptor each (Fluent Bit's rotate_wait): a file renamed to a name no
 * listing knows, moved away or left behind by a symlink's new target is
 * still read to its end through it before it is let go.
 */
export class FollowedFiles {
  private readonly open = new Map<number, OpenFile>();
  /** Kept generations no listing names any more, still being drained: their streams are looked at again without an event. */
  private readonly unlisted = new Set<number>();

  /** Takes ownership of `file` as the descriptor of source `id` (the one held before is closed). */
  keep(id: number, file: OpenFile): void {
    const before = this.open.get(id);
    if (before && before.fd !== file.fd) closeSync(before.fd);
    this.open.set(id, file);
    this.unlisted.delete(id);
  }

  /** Source `id` is read only through its kept descriptor now, until it is let go. */
  draining(id: number): void {
    if (this.open.has(id)) this.unlisted.add(id);
  }

  /** The streams of the generations being drained: a quiet stream's drained file is let go only when its stream is read. */
  drainingStreams(): Set<string> {
    return new Set([...this.unlisted].map((id) => this.open.get(id)!.stream));
  }

  get(id: number): OpenFile | undefined {
    return this.open.get(id);
  }

  release(id: number): void {
    const f = this.open.get(id);
    if (!f) return;
    this.open.delete(id);
    this.unlisted.delete(id);
    closeSync(f.fd);
  }

  /** Lets go of every source not in `live` (truncated, pruned, rebuilt away). */
  retain(live: Set<number>): void {
    for (const id of [...this.open.keys()]) if (!live.has(id)) this.release(id);
  }

  closeAll(): void {
    for (const f of this.open.values()) closeSync(f.fd);
    this.open.clear();
    this.unlisted.clear();
  }
}

/** The ids of the sources still read from their own files, in one query. */
export function activeSources(store: Store): Set<number> {
  return new Set(store.allSources().filter((s) => s.state === 'active').map((s) => s.id));
}
