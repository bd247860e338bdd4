import { lagBytes } from '../ingest/lag.js';
import { statAtPath } from '../ingest/sources.js';
import type { Store } from '../store/api.js';

export interface TailerFileStats {
  stream: string;
  path: string;
  size: number;
  checkpoint: number;
  lagBytes: number;
  /** Seconds since the file was last written, while it is behind. */
  lagSeconds: number;
}

export interface TailerStats {
  startedAt: string | null;
  rows: number;
  rejects: number;
  /** Rows per second since the start. */
  rowsPerSecond: number;
  files: TailerFileStats[];
}

/** Where each followed file stands against its checkpoint, and the tailer's totals. */
export function tailerStats(store: Store | undefined, dir: string, wants: (stream: string) => boolean,
  counters: { rows: number; rejects: number }, startedAt: number | undefined): TailerStats {
  const files: TailerFileStats[] = [];
  if (store) {
    const now = Date.now();
    for (const s of store.allSources()) {
      if (s.state !== 'active' || s.kind !== 'jsonl' || !wants(s.stream)) continue;
      const st = statAtPath(dir, s);
      if (!st) continue;
      const lag = lagBytes(st.size, s);
      files.push({ stream: s.stream, path: s.path, size: st.size, checkpoint: s.offset, lagBytes: lag,
        lagSeconds: lag > 0 ? Math.max(0, (now - st.mtimeMs) / 1000) : 0 });
    }
  }
  const secs = startedAt ? (Date.now() - startedAt) / 1000 : 0;
  return {
    startedAt: startedAt ? new Date(startedAt).toISOString() : null,
    ...counters,
    rowsPerSecond: secs > 0 ? Math.round(counters.rows / secs) : 0,
    files,
  };
}
