import { parentPort, workerData } from 'node:worker_threads';
import { createReader, type Reader, type ReaderOptions } from '../api/reader.js';
import { METRICS, type MetricKey } from '../api/metric-list.js';
import type { PoolReply, PoolRequest } from './read-pool.js';

// One thread of the server's read pool: readers of its own (one per host asked), each answer sent back as its JSON body.

const port = parentPort!;
const base = workerData as Omit<ReaderOptions, 'onFallback' | 'onProblem' | 'host'>;
const readers = new Map<string, Reader>();
const note = (message: string) => port.postMessage({ note: message } satisfies PoolReply);

function readerFor(host: string | undefined): Reader {
  let r = readers.get(host ?? '');
  if (!r) readers.set(host ?? '', (r = createReader({ ...base, host, onFallback: note, onProblem: note })));
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
    const result = readerFor(m.host).ask(m.key as MetricKey, m.options);
    const reply = METRICS[m.key as MetricKey].http.reply;
    port.postMessage({ id: m.id, body: JSON.stringify(reply ? reply(result as never) : result) } satisfies PoolReply);
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: m.id, error: { name: e.name, code: e.code, message: e.message ?? String(err), stack: e.stack } } satisfies PoolReply);
  }
});
