import { fsyncSync } from 'node:fs';
import type { StreamFiles } from './streams.js';

export type Durability = 'none' | 'fsync' | { intervalMs: number };

/** When the writer's appends reach the disk: the OS decides, after each append, or on a timer. */
export class DurabilityPolicy {
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly durability: Durability,
    private readonly files: StreamFiles,
  ) {
    this.timer = typeof durability === 'object' ? setInterval(() => this.syncDirty(), durability.intervalMs).unref() : undefined;
  }

  afterWrite(fd: number): void {
    if (this.durability === 'fsync') fsyncSync(fd);
  }

  /** On flush: fsync what was written since the last one, unless the OS decides. */
  flush(): void {
    if (this.durability !== 'none') this.syncDirty();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private syncDirty(): void {
    for (const s of this.files.values()) {
      if (s.dirty) {
        fsyncSync(s.fd);
        s.dirty = false;
      }
    }
  }
}
