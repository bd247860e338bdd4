import { workerData, type MessagePort } from 'node:worker_threads';
import { parseBatch, type PieceSink } from './parsed-batch.js';
import { CANCELLED, CONSUMED, DEAD, DONE, PRODUCED, READY, type AheadJob } from './parse-ahead-protocol.js';

/**
 * The parse-ahead worker (parse-ahead.ts): reads and parses one file's
 * batches in order, posting pieces at most `depth` pieces ahead of what the
 * main thread has taken, until the file's end, its last newline, or a cancel.
 */
const { port, shared } = workerData as { port: MessagePort; shared: SharedArrayBuffer };
const s = new Int32Array(shared);

const signal = (slot: number, value?: number): void => {
  if (value === undefined) Atomics.add(s, slot, 1);
  else Atomics.store(s, slot, value);
  Atomics.notify(s, slot);
};

// Whatever ends this thread, the main thread (blocked in Atomics.wait, its event loop stopped) must learn of it.
process.on('exit', () => {
  signal(DEAD, 1);
  signal(PRODUCED);
  signal(DONE, Atomics.load(s, DONE));
});

/** Thrown out of a batch when the main thread cancels the job. */
class Cancelled extends Error {}

function run(job: AheadJob): void {
  const cancelled = (): boolean => Atomics.load(s, CANCELLED) >= job.id;
  const post: PieceSink = (piece, transfer) => {
    for (let c = Atomics.load(s, CONSUMED); !cancelled() && Atomics.load(s, PRODUCED) - c >= job.depth; c = Atomics.load(s, CONSUMED)) {
      Atomics.wait(s, CONSUMED, c, 1000);
    }
    if (cancelled()) throw new Cancelled();
    port.postMessage({ id: job.id, piece }, transfer);
    signal(PRODUCED);
  };
  let from = job.from;
  try {
    for (;;) {
      const end = parseBatch({ ...job, from }, post);
      if (end.next === from || end.next >= job.to) break;
      from = end.next;
    }
  } catch (err) {
    if (err instanceof Cancelled) return;
    port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
    signal(PRODUCED);
  } finally {
    signal(DONE, job.id);
  }
}

port.on('message', (m: AheadJob | 'close') => {
  if (m === 'close') port.close();
  else run(m);
});
signal(READY, 1);
