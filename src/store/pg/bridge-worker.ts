import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

// node-postgres on its own thread, for SyncPg (./bridge.ts): one connection, each statement's answer posted
// on the port it came with, and the count of answers given bumped for the caller blocked in Atomics.wait.

export interface BridgeWorkerData {
  url: string;
  flag: SharedArrayBuffer;
  connectMs: number;
}

export interface BridgeRequest {
  port: MessagePort;
  sql: string;
  params: unknown[];
  rowMode?: 'array';
  /** COPY … FROM STDIN: the text to send. */
  copyText?: string;
}

export type BridgeReply = { rows: unknown[]; rowCount: number; fields?: string[]; error?: undefined } | { error: { message: string; code?: string } };

const data = workerData as BridgeWorkerData;
// Row counts and ids are int8, sums of them numeric: numbers on our side, as better-sqlite3 gives them.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));
const flag = new Int32Array(data.flag);
// A connection the server dropped (restart, network) is replaced on the next statement.
let client: pg.Client | null = null;
let ready: Promise<unknown> | null = null;

function connect(): pg.Client {
  const c = new pg.Client({ connectionString: data.url, connectionTimeoutMillis: data.connectMs, application_name: 'jsonl-mirror' });
  const drop = () => {
    if (client === c) {
      client = null;
      ready = null;
    }
  };
  c.on('error', drop);
  c.on('end', drop);
  const connected = c.connect();
  connected.catch(drop);
  client = c;
  ready = connected;
  return c;
}

function copy(c: pg.Client, sql: string, text: string): Promise<BridgeReply> {
  return new Promise((resolve, reject) => {
    const stream = c.query(copyFrom(sql));
    stream.on('finish', () => resolve({ rows: [], rowCount: stream.rowCount }));
    stream.on('error', reject);
    stream.end(text);
  });
}

parentPort!.on('message', async ({ port, sql, params, rowMode, copyText }: BridgeRequest) => {
  let reply: BridgeReply;
  try {
    const c = client ?? connect();
    await ready;
    if (copyText !== undefined) {
      reply = await copy(c, sql, copyText);
    } else {
      const r = rowMode === 'array' ? await c.query({ text: sql, values: params, rowMode }) : await c.query({ text: sql, values: params });
      reply = { rows: r.rows, rowCount: r.rowCount ?? 0, fields: (r.fields ?? []).map((f) => f.name) };
    }
  } catch (err) {
    const e = err as { message?: string; code?: string } | undefined;
    reply = { error: { message: String(e?.message ?? err), code: e?.code } };
  }
  port.postMessage(reply);
  port.close();
  // The count of answers given: the caller waits for the one it needs.
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
});

parentPort!.on('close', () => {
  client?.end().catch(() => {});
});
