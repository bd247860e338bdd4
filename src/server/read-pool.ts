import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { MirrorError, type MirrorErrorCode } from '../errors.js';
import type { ReaderOptions } from '../api/reader.js';

export interface PoolRequest {
  id: number;
  key: string;
  options: Record<string, unknown>;
  host?: string;
}

export type PoolReply =
  | { id: number; body: string }
  | { id: number; error: { name: string; code?: string; message: string; stack?: string } }
  | { note: string };

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (body: string) => void; reject: (err: unknown) => void }>;
}

/**
 * The worker's file: beside this one when it runs built (dist/) or under Bun,
 * which runs TypeScript; from source under Node (the tests), the built copy in
 * dist/, which Node can load (the test run builds it first).
 */
function workerFile(): URL {
  const here = new URL('./read-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  if (process.versions.bun) return new URL('./read-worker.ts', import.meta.url);
  const built = new URL('../../dist/src/server/read-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(built))) {
    throw new MirrorError('INVALID_ARGUMENT', `the server's read worker is not built (${fileURLToPath(built)}); run \`npm run build\``);
  }
  return built;
}

function revive(e: { name: string; code?: string; message: string; stack?: string }): Error {
  const err = e.name === 'MirrorError' ? new MirrorError(e.code as MirrorErrorCode, e.message) : new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

/**
 * Readers in worker threads, for a mirror whose reads wait on a database
 * server: the synchronous reader blocks the thread that runs it for every
 * round trip, so the server's own thread only routes requests and the live
 * feed while these wait; a slow answer holds one thread, not every request.
 * Each request goes to the thread with the fewest in flight.
 */
export class ReadPool {
  private readonly threads: Thread[];
  private next = 0;

  constructor(opts: Omit<ReaderOptions, 'onFallback' | 'onProblem' | 'host'>, size: number, onNote: (message: string) => void) {
    const file = workerFile();
    this.threads = Array.from({ length: size }, () => {
      const t: Thread = { worker: new Worker(file, { workerData: opts }), pending: new Map() };
      t.worker.on('message', (m: PoolReply) => {
        if ('note' in m) return onNote(m.note);
        const p = t.pending.get(m.id);
        t.pending.delete(m.id);
        if ('body' in m) p?.resolve(m.body);
        else p?.reject(revive(m.error));
      });
      t.worker.on('error', (err) => {
        for (const p of t.pending.values()) p.reject(err);
        t.pending.clear();
      });
      t.worker.unref();
      return t;
    });
  }

  /** The JSON body of metric `key` asked with `options` (already checked), of every host or of `host`'s events. */
  ask(key: string, options: Record<string, unknown>, host?: string): Promise<string> {
    const t = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      t.worker.postMessage({ id, key, options, host } satisfies PoolRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => {
      for (const p of t.pending.values()) p.reject(new Error('the server is closing'));
      t.pending.clear();
      const exited = new Promise<void>((resolve) => t.worker.once('exit', () => resolve()));
      t.worker.postMessage('close');
      return exited;
    }));
  }
}
