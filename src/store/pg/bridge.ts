import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { MirrorError } from '../../errors.js';
import { workerFile } from '../../worker-file.js';
import type { BridgeReply, BridgeRequest, BridgeWorkerData } from './bridge-worker.js';

/**
 * A synchronous call into node-postgres. The ingest decisions (file identity,
 * rotation, copies) and every metric are synchronous code written against
 * better-sqlite3; rather than fork them into async twins, the PostgreSQL
 * engine runs its driver in a worker thread (./bridge-worker.ts) and blocks
 * on Atomics.wait for each answer. The cost is one thread hop per statement
 * (tens of microseconds), which the engine keeps off the hot path by sending
 * events in COPY batches of thousands, without waiting for them while it
 * parses the next lines. A server that must not block reads through
 * api/read-pool.ts, which runs this in threads of its own.
 */
const WORKER = workerFile(import.meta.url, './bridge-worker.js');

export interface PgResult<R> {
  rows: R[];
  rowCount: number;
  /** Column names, in order (empty for COPY and statements without a result). */
  fields?: string[];
}

/** What PostgreSQL said, with its SQLSTATE (e.g. 40P01, 57P01) when it said one. */
export class PgError extends Error {
  constructor(
    message: string,
    readonly sqlstate: string | undefined,
  ) {
    super(message);
  }
}

/** SQLSTATE classes and node errors that mean "the server is not there (now)": retry later. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof MirrorError) return err.code === 'DB_UNREACHABLE';
  if (!(err instanceof PgError)) return false;
  const s = err.sqlstate ?? '';
  return s.startsWith('08') || s === '57P01' || s === '57P02' || s === '57P03' || /ECONNREFUSED|ECONNRESET|ENOTFOUND|EPIPE|timeout|terminat|Connection/i.test(err.message);
}

export interface BridgeOptions {
  /** How long to wait for the server to accept a connection, ms. */
  connectMs?: number;
  /** How long one statement may take before the caller gives up, ms. */
  statementMs?: number;
}

interface InFlight {
  seq: number;
  port: MessagePort;
  then?: (r: PgResult<unknown>) => void;
}

/**
 * One PostgreSQL connection, driven synchronously. Statements run in the
 * order they are given; `send` does not wait for its answer (the server
 * inserts one batch while the caller parses the next), and any later
 * statement first collects the answers still due.
 */
export class SyncPg {
  private readonly worker: Worker;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly statementMs: number;
  private closed = false;
  private posted = 0;
  private inFlight: InFlight[] = [];

  constructor(
    readonly url: string,
    opts: BridgeOptions = {},
  ) {
    this.statementMs = opts.statementMs ?? 120_000;
    this.worker = new Worker(WORKER, {
      // Not piped into this process's stdout/stderr: that would switch fd 1 to non-blocking under the CLI's blocking writes.
      stdout: true,
      stderr: true,
      // An inherited --input-type makes the worker refuse its own file (as ingest/gunzip.ts's does).
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
      workerData: { url, flag: this.flag.buffer as SharedArrayBuffer, connectMs: opts.connectMs ?? 5000 } satisfies BridgeWorkerData,
    });
    // The worker must not keep a finished CLI process alive.
    this.worker.unref();
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): PgResult<R> {
    return this.call(sql, params, undefined) as PgResult<R>;
  }

  /** Rows as arrays, in column order. */
  arrays(sql: string, params: unknown[] = []): unknown[][] {
    return this.call(sql, params, 'array').rows as unknown[][];
  }

  /** Rows as arrays with their column names. */
  table(sql: string, params: unknown[] = []): { fields: string[]; rows: unknown[][] } {
    const r = this.call(sql, params, 'array');
    return { fields: r.fields ?? [], rows: r.rows as unknown[][] };
  }

  /**
   * COPY … FROM STDIN of `text` (PostgreSQL's text format), without waiting
   * for it; `then` sees its row count when a later call collects it (an
   * error is thrown there).
   */
  copyIn(sql: string, text: string, then?: (r: PgResult<unknown>) => void): void {
    this.inFlight.push(this.post(sql, [], undefined, then, text));
  }

  private post(sql: string, params: unknown[], rowMode: 'array' | undefined, then?: (r: PgResult<unknown>) => void, copyText?: string): InFlight {
    if (this.closed) throw new MirrorError('DB_CLOSED', 'the PostgreSQL connection was closed');
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ port: port2, sql, params, rowMode, copyText } satisfies BridgeRequest, [port2]);
    return { seq: ++this.posted, port: port1, then };
  }

  private await(f: InFlight): PgResult<unknown> {
    const deadline = Date.now() + this.statementMs;
    let msg: BridgeReply | undefined;
    // The shared counter says some answer came; this statement's is the one on its own port.
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      if (seen >= f.seq) msg = receiveMessageOnPort(f.port)?.message as BridgeReply | undefined;
      if (msg) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, seen, left) === 'timed-out') {
        // A late answer would be taken for another statement's: this connection is done.
        this.close();
        throw new MirrorError('DB_UNREACHABLE', `PostgreSQL did not answer within ${this.statementMs / 1000} s; check the server and the network`);
      }
    }
    f.port.close();
    if (msg.error) throw new PgError(msg.error.message, msg.error.code);
    f.then?.(msg);
    return msg;
  }

  /** Collects every answer still due; the first failure among them is thrown once all are in. */
  private drain(): void {
    const due = this.inFlight;
    this.inFlight = [];
    let failure: unknown;
    for (const f of due) {
      try {
        this.await(f);
      } catch (err) {
        failure ??= err;
        if (this.closed) break;
      }
    }
    if (failure !== undefined) throw failure;
  }

  private call(sql: string, params: unknown[], rowMode: 'array' | undefined): PgResult<unknown> {
    this.drain();
    return this.await(this.post(sql, params, rowMode));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }
}
