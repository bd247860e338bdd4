import { Worker } from 'node:worker_threads';
import { MirrorError, type MirrorErrorCode } from '../errors.js';
import { workerFile } from '../worker-file.js';
import type { ReaderOptions } from './reader.js';

export interface PoolRequest {
  id: number;
  key: string;
  /** undefined: a helper called without options (which some refuse, as they do on the caller's thread). */
  options: Record<string, unknown> | undefined;
  host?: string;
  /** http: the server's JSON body (the metric's HTTP reply); result: the helper's result as it returns it. */
  shape: 'http' | 'result';
}

export type PoolReply =
  | { id: number; body: string }
  | { id: number; result: unknown }
  | { id: number; error: { name: string; code?: string; message: string; stack?: string } }
  | { note: string; kind: 'fallback' | 'problem' };

/** What a pool's readers tell: why one reads the files (onFallback), an input a helper did without (onProblem). */
export interface PoolNotes {
  onFallback?: (reason: string) => void;
  onProblem?: (message: string) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>;
}

function revive(e: { name: string; code?: string; message: string; stack?: string }): Error {
  const err = e.name === 'MirrorError' ? new MirrorError(e.code as MirrorErrorCode, e.message) : new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

/**
 * Readers in worker threads: the synchronous reader blocks the thread that
 * runs it for every round trip to a database server, so a server (or a
 * library caller) that must stay responsive asks these instead, and a slow
 * answer holds one thread, not every request. Each request goes to the
 * thread with the fewest in flight.
 */
export class ReadPool {
  private readonly threads: Thread[];
  private next = 0;

  constructor(opts: Omit<ReaderOptions, 'onFallback' | 'onProblem' | 'host'>, size: number, notes: PoolNotes) {
    const file = workerFile(import.meta.url, './read-worker.js');
    this.threads = Array.from({ length: size }, () => {
      // An inherited --input-type makes the worker refuse its own file (as ingest/gunzip.ts's does).
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
      const t: Thread = { worker: new Worker(file, { workerData: opts, execArgv }), pending: new Map() };
      t.worker.on('message', (m: PoolReply) => {
        if ('note' in m) return (m.kind === 'fallback' ? notes.onFallback : notes.onProblem)?.(m.note);
        const p = t.pending.get(m.id);
        t.pending.delete(m.id);
        if (t.pending.size === 0) t.worker.unref();
        if ('error' in m) p?.reject(revive(m.error));
        else p?.resolve('body' in m ? m.body : m.result);
      });
      t.worker.on('error', (err) => {
        for (const p of t.pending.values()) p.reject(err);
        t.pending.clear();
        t.worker.unref();
      });
      // An idle pool never keeps the process alive; one with answers still to come does (ask()).
      t.worker.unref();
      return t;
    });
  }

  /** The server's JSON body of metric `key` asked with `options` (already checked), of every host or of `host`'s events. */
  body(key: string, options: Record<string, unknown>, host?: string): Promise<string> {
    return this.send({ key, options, host, shape: 'http' }) as Promise<string>;
  }

  /** What the reader's helper `key` returns for its options `o`. */
  result(key: string, o: Record<string, unknown> | undefined, host?: string): Promise<unknown> {
    return this.send({ key, options: o, host, shape: 'result' });
  }

  private send(r: Omit<PoolRequest, 'id'>): Promise<unknown> {
    const t = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (t.pending.size === 0) t.worker.ref();
      t.pending.set(id, { resolve, reject });
      t.worker.postMessage({ id, ...r } satisfies PoolRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => {
      for (const p of t.pending.values()) p.reject(new Error('the reader is closing'));
      t.pending.clear();
      const exited = new Promise<void>((resolve) => t.worker.once('exit', () => resolve()));
      // Held until it has closed its readers: an unref'd thread would let the process leave this await unsettled.
      t.worker.ref();
      t.worker.postMessage('close');
      return exited;
    }));
  }
}
