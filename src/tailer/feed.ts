/** One committed batch of new events, in log order, already queryable in SQLite. */
export interface ChangeBatch {
  stream: string;
  events: Record<string, unknown>[];
  /** The same events as the lines written in the log, byte for byte (an event of any depth can be passed on without re-serialising it). */
  lines: string[];
}

export type Subscriber = (batch: ChangeBatch) => void;

/**
 * The change feed: callbacks, or an async iterator that buffers batches
 * until they are read.
 */
export class ChangeFeed {
  private readonly subscribers = new Set<Subscriber>();
  private ended = false;
  private readonly enders = new Set<() => void>();
  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  get active(): boolean {
    return this.subscribers.size > 0;
  }

  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** A subscriber that throws is reported; the batch still reaches every other subscriber. */
  publish(batch: ChangeBatch): void {
    for (const fn of this.subscribers) {
      try {
        fn(batch);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  end(): void {
    this.ended = true;
    for (const e of this.enders) e();
  }

  [Symbol.asyncIterator](): AsyncIterator<ChangeBatch> {
    const queue: ChangeBatch[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((b) => {
      queue.push(b);
      wake?.();
    });
    const onEnd = () => wake?.();
    this.enders.add(onEnd);
    const done = (): IteratorResult<ChangeBatch> => {
      unsubscribe();
      this.enders.delete(onEnd);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (queue.length === 0 && !this.ended) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        return queue.length > 0 ? { done: false, value: queue.shift()! } : done();
      },
      return: async () => done(),
    };
  }
}
