import type { MirrorStep } from './mirror-step.js';
import type { OpenStream, StreamFiles } from './streams.js';

/** Batched mode's group commit: one mirror step per stream for every `maxEvents` appends or `maxDelayMs`, whichever comes first. */
export class Batcher {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: StreamFiles,
    private readonly step: MirrorStep,
    private readonly counters: { mirrored: number; skipped: number },
    private readonly maxEvents: number,
    private readonly maxDelayMs: number,
  ) {}

  /** Counts one append to the stream; commits when the group is full, else makes sure a commit is due. */
  add(s: OpenStream): void {
    s.pending++;
    if (s.pending >= this.maxEvents) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [stream, s] of this.files.entries()) {
      if (s.pending === 0) continue;
      const n = s.pending;
      s.pending = 0;
      if (this.step.run(stream, s, n)) this.counters.mirrored += n;
      else this.counters.skipped += n;
    }
  }
}
