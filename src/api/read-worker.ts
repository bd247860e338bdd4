import { parentPort, workerData } from 'node:worker_threads';
import { createReader, type Reader, type ReaderOptions } from './reader.js';
import { METRICS, type MetricKey } from './metric-list.js';
import type { PoolReply, PoolRequest } from './read-pool.js';

// One thread of a read pool: readers of its own (one per host asked), each answer sent back as the server's JSON
// body or as the helper's result.

const port = parentPort!;
const base = workerData as Omit<ReaderOptions, 'onFallback' | 'onProblem' | 'host'>;
const readers = new Map<string, Reader>();
const fallback = (message: string) => port.postMessage({ note: message, kind: 'fallback' } satisfies PoolReply);
const problem = (message: string) => port.postMessage({ note: message, kind: 'problem' } satisfies PoolReply);

/**
 * Readers kept per thread, the most recently asked: each holds a connection, and `?host=` is the client's to
 * choose, so a client naming host after host must not open connection after connection.
 */
const MAX_READERS = 8;

function readerFor(host: string | undefined): Reader {
  const key = host ?? '';
  let r = readers.get(key);
  if (r) readers.delete(key);
  else r = createReader({ ...base, host, onFallback: fallback, onProblem: problem });
  readers.set(key, r);
  if (readers.size > MAX_READERS) {
    const [oldest, reader] = readers.entries().next().value!;
    readers.delete(oldest);
    reader.close();
  }
  return r;
}

// Connected before the first request, which should not pay for this thread's connection and schema check; a
// failure here is the first request's to report.
try {
  readerFor(undefined);
} catch {
  // Reported by the first request, which tries again.
}

port.on('message', (m: PoolRequest | 'close') => {
  if (m === 'close') {
    for (const r of readers.values()) r.close();
    port.close();
    return;
  }
  try {
    const reader = readerFor(m.host);
    const key = m.key as MetricKey;
    if (m.shape === 'result') {
      port.postMessage({ id: m.id, result: (reader[key] as (o: unknown) => unknown)(m.options) } satisfies PoolReply);
      return;
    }
    const result = reader.ask(key, m.options ?? {});
    const reply = METRICS[key].http.reply;
    port.postMessage({ id: m.id, body: JSON.stringify(reply ? reply(result as never) : result) } satisfies PoolReply);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: m.id, error: { name: e.name, code: e.code, message: e.message ?? String(err), stack: e.stack } } satisfies PoolReply);
  }
});
