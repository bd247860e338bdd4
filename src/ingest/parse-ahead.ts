import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { MirrorError } from '../errors.js';
import { CANCELLED, CONSUMED, DEAD, DONE, PRODUCED, READY, SLOTS, type AheadJob } from './parse-ahead-protocol.js';
import type { BatchRange, ParsedPiece } from './parsed-batch.js';

const WORKER_SCRIPT = new URL('./parse-worker.js', import.meta.url);
/** Pieces the worker may have posted and the main thread not yet taken: 32 x 512 lines, about 2 MB (a quarter of a batch). */
const DEPTH = 32;
/** No answer from the worker for this long means it is gone (its exit or error is normally seen at once). */
const STALL_MS = 60_000;
/** A worker not listening after this long failed to start (its error only reaches an event loop the ingest never yields to). */
const START_MS = 10_000;

type Message = { id: number; piece: ParsedPiece } | { id: number; error: string };

/**
 * Parses a bulk load's lines in a worker thread while the main thread inserts
 * (issue #15: JSON.parse was ~14% of an import), in pieces of a batch, at
 * most DEPTH pieces ahead. The ingest stays synchronous: the main thread
 * takes each piece with receiveMessageOnPort, blocking in Atomics.wait until
 * it is there. What the worker read is only a proposal: the ingest batch
 * still checks where it starts against the checkpoint under the write lock
 * (ingest-file.ts). One worker serves a whole import, one file at a time.
 */
export class ParseAhead {
  private readonly shared = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private job: AheadJob | undefined;
  /** The active job's last piece was taken. */
  private ended = true;
  private lastId = 0;

  /**
   * A started worker; undefined when there is no built script (running from
   * the TypeScript sources) or it did not start: the ingest then parses inline.
   */
  static create(script: URL = WORKER_SCRIPT): ParseAhead | undefined {
    if (!existsSync(fileURLToPath(script))) return undefined;
    const ahead = new ParseAhead(script);
    if (Atomics.wait(ahead.shared, READY, 0, START_MS) === 'timed-out' || Atomics.load(ahead.shared, DEAD) !== 0) {
      void ahead.worker.terminate();
      return undefined;
    }
    return ahead;
  }

  private constructor(script: URL) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(script, {
      workerData: { port: port2, shared: this.shared.buffer },
      transferList: [port2],
      // Inherited, --input-type (node --input-type=module -e ...) makes a worker refuse to load a file.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
      // Its garbage is short-lived; a small young generation keeps the thread's peak RSS ~15 MB lower (1 GB import).
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    // Failures reach the main thread through the shared slots; this only keeps an 'error' event from being unhandled.
    this.worker.on('error', () => {});
  }

  /** Starts reading `range` ahead (stopping the file read before, if any). */
  start(range: BatchRange): void {
    this.stop();
    this.job = { ...range, id: ++this.lastId, depth: DEPTH };
    this.ended = false;
    this.port.postMessage(this.job);
  }

  /** The next piece of the active job, waiting for it; undefined when the job has no more. */
  take(): ParsedPiece | undefined {
    const job = this.job;
    if (!job || this.ended) return undefined;
    let m: Message;
    try {
      m = this.receive(job.id);
    } catch (err) {
      // Gone or hung: it may still hold the file, so end it rather than wait for it.
      this.job = undefined;
      void this.worker.terminate();
      throw err;
    }
    if ('error' in m) {
      this.job = undefined;
      throw failed(`it failed: ${m.error}`);
    }
    const { piece } = m;
    if (piece.end && (piece.end.next === piece.from || piece.end.next >= piece.to)) this.ended = true;
    return piece;
  }

  /** Cancels the active job and waits until the worker no longer reads its file (the caller closes it next). */
  stop(): void {
    const job = this.job;
    if (!job) return;
    this.job = undefined;
    this.ended = true;
    const s = this.shared;
    Atomics.store(s, CANCELLED, job.id);
    Atomics.notify(s, CONSUMED);
    const since = Date.now();
    while (Atomics.load(s, DONE) < job.id && Atomics.load(s, DEAD) === 0) {
      if (Date.now() - since > STALL_MS) throw failed('it stopped answering');
      Atomics.wait(s, DONE, Atomics.load(s, DONE), 1000);
    }
    while (receiveMessageOnPort(this.port)) this.consumed();
  }

  /** Lets the worker end (it is unref'd: it never keeps the process alive). */
  close(): void {
    this.stop();
    this.port.postMessage('close');
    this.port.close();
  }

  private consumed(): void {
    Atomics.add(this.shared, CONSUMED, 1);
    Atomics.notify(this.shared, CONSUMED);
  }

  /** The next message of job `id`, discarding a cancelled job's leftovers. */
  private receive(id: number): Message {
    const s = this.shared;
    let since = Date.now();
    for (;;) {
      const produced = Atomics.load(s, PRODUCED);
      const got = receiveMessageOnPort(this.port);
      if (got) {
        this.consumed();
        const m = got.message as Message;
        if (m.id === id) return m;
        since = Date.now();
        continue;
      }
      if (Atomics.load(s, DEAD) !== 0) throw failed('its thread exited');
      if (Date.now() - since > STALL_MS) throw failed('it stopped answering');
      Atomics.wait(s, PRODUCED, produced, 1000);
    }
  }
}

function failed(why: string): MirrorError {
  return new MirrorError('INGEST_WORKER_FAILED', `the import's parse worker stopped: ${why}. Nothing was lost (every batch commits with its ` +
    'checkpoint): run the import again, it goes on from there');
}
