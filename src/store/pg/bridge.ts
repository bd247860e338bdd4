import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { MirrorError } from '../../errors.js';

/**
 * A synchronous call into node-postgres. The ingest decisions (file identity,
 * rotation, copies) and every metric are synchronous code written against
 * better-sqlite3; rather than fork them into async twins, the PostgreSQL
 * engine runs its driver in a worker thread and blocks on Atomics.wait for
 * each answer. The cost is one thread hop per statement (tens of
 * microseconds), which the engine keeps off the hot path by sending rows in
 * bulk (one statement per batch of lines, never per event).
 *
 * The worker is plain JavaScript given as text so that it runs the same from
 * src/ under vitest and from dist/; it loads the `pg` module this package
 * resolved.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
// Row counts and ids are int8, sums of them numeric: numbers on our side, as better-sqlite3 gives them.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));
const flag = new Int32Array(workerData.flag);
// A connection the server dropped (restart, network) is replaced on the next statement.
let client = null;
let ready = null;
function connect() {
  const c = new pg.Client({ connectionString: workerData.url, connectionTimeoutMillis: workerData.connectMs,
    application_name: 'jsonl-mirror' });
  const drop = () => { if (client === c) { client = null; ready = null; } };
  c.on('error', drop);
  c.on('end', drop);
  client = c;
  ready = c.connect();
  ready.catch(drop);
}
parentPort.on('message', async ({ port, sql, params, rowMode }) => {
  let reply;
  try {
    if (!client) connect();
    const c = client;
    await ready;
    const r = await c.query({ text: sql, values: params, rowMode });
    reply = { rows: r.rows, rowCount: r.rowCount ?? 0 };
  } catch (err) {
    reply = { error: { message: String((err && err.message) || err), code: err && err.code } };
  }
  port.postMessage(reply);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
parentPort.on('close', () => client && client.end().catch(() => {}));
`;

export interface PgResult<R> {
  rows: R[];
  rowCount: number;
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

/** One PostgreSQL connection, driven synchronously. Not reentrant: one statement at a time. */
export class SyncPg {
  private readonly worker: Worker;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly statementMs: number;
  private closed = false;

  constructor(
    readonly url: string,
    opts: BridgeOptions = {},
  ) {
    this.statementMs = opts.statementMs ?? 120_000;
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { url, flag: this.flag.buffer, pg: createRequire(import.meta.url).resolve('pg'), connectMs: opts.connectMs ?? 5000 },
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

  private call(sql: string, params: unknown[], rowMode: 'array' | undefined): PgResult<unknown> {
    if (this.closed) throw new MirrorError('DB_CLOSED', 'the PostgreSQL connection was closed');
    const { port1, port2 } = new MessageChannel();
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ port: port2, sql, params, rowMode }, [port2]);
    const waited = Atomics.wait(this.flag, 0, 0, this.statementMs);
    const msg = receiveMessageOnPort(port1)?.message as
      | { rows: unknown[]; rowCount: number; error?: undefined }
      | { error: { message: string; code?: string } }
      | undefined;
    port1.close();
    if (waited === 'timed-out' || !msg) {
      // A late answer would be taken for the next statement's: this connection is done.
      this.close();
      throw new MirrorError('DB_UNREACHABLE', `PostgreSQL did not answer within ${this.statementMs / 1000} s; check the server and the network`);
    }
    if (msg.error) throw new PgError(msg.error.message, msg.error.code);
    return msg;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }
}
