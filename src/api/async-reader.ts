import { availableParallelism } from 'node:os';
import { METRIC_KEYS, type MetricHelpers, type MetricKey } from './metric-list.js';
import { ReadPool } from './read-pool.js';
import type { ReaderOptions } from './reader.js';

/** Each helper of the Reader, answered off the caller's thread: the same options, the same result, as a promise. */
export type AsyncMetricHelpers = { [K in MetricKey]: (...o: Parameters<MetricHelpers[K]>) => Promise<ReturnType<MetricHelpers[K]>> };

export interface AsyncReader extends AsyncMetricHelpers {
  /** Stops the threads; answers still pending reject. */
  close(): Promise<void>;
}

export interface AsyncReaderOptions extends ReaderOptions {
  /** Reader threads, each with its own connection to the mirror (default: the cores, at least 2, at most 4). */
  threads?: number;
}

/**
 * The reader's helpers in worker threads: for a caller that must not block,
 * such as a server of its own over the fleet mirror, where every answer is
 * round trips to PostgreSQL. Concurrent calls run concurrently, one per
 * thread; a slow one holds its thread only. The results equal createReader's.
 */
export function createAsyncReader(opts: AsyncReaderOptions): AsyncReader {
  const { onFallback, onProblem, host, threads, ...base } = opts;
  const pool = new ReadPool(base, threads ?? Math.min(4, Math.max(2, availableParallelism())), { onFallback, onProblem });
  const helpers = Object.fromEntries(
    METRIC_KEYS.map((k) => [k, (o?: Record<string, unknown>) => pool.result(k, o, host)]),
  ) as unknown as AsyncMetricHelpers;
  return { ...helpers, close: () => pool.close() };
}
