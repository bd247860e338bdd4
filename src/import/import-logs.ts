import { join } from 'node:path';
import { assertDir, useHistoryDir } from '../ingest/layout.js';
import { openMirror } from '../store/engines.js';
import { importAll, type ImportOptions, type ImportSummary } from './import.js';

/** `jsonl-mirror import` as a call: opens the mirror (DIR/mirror.db by default), imports, closes. */
export function importLogs(opts: ImportOptions & { dir: string; db?: string; historyDir?: string }): ImportSummary {
  assertDir(opts.dir);
  useHistoryDir(opts.dir, opts.historyDir);
  const store = openMirror(opts.db ?? join(opts.dir, 'mirror.db'));
  try {
    return importAll(store, opts.dir, opts);
  } finally {
    store.close();
  }
}
