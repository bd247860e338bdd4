import { fstatSync } from 'node:fs';
import type { Store } from '../store/api.js';
import { ingestFile } from './ingest-file.js';
import { ingestStream } from './ingest-stream.js';
import { emptyTotals, resolveIngestOptions, type IngestOptions, type IngestTotals } from './options.js';

type LiveTotals = IngestTotals & { source?: LiveHint };

/**
 * The hot path of the writer's mirror step: the live file of a stream is
 * already open and already known, so ingest it straight from its checkpoint.
 * Anything unusual (a new inode after rotation, a truncation, a file not seen
 * before) goes through the full stream pass, which drains older files first.
 */
export function ingestLive(store: Store, dir: string, stream: string, fd: number, options?: IngestOptions, hint?: LiveHint): LiveTotals {
  const opts = resolveIngestOptions(options);
  const totals: LiveTotals = emptyTotals();
  const st = fstatSync(fd);
  if (!hint || hint.ino !== st.ino || hint.dev !== st.dev) {
    const src = store.sourceByInode(stream, st.dev, st.ino);
    hint = src?.state === 'active' ? { dev: st.dev, ino: st.ino, sourceId: src.id, path: src.path } : undefined;
  }
  if (hint) {
    totals.files = 1;
    const outcome = ingestFile(store, { stream, name: hint.path, rotation: 0, compressed: false, fd, st }, hint.sourceId, false, opts, totals, false);
    if (outcome === 'done') {
      totals.source = hint;
      return totals;
    }
  }
  return ingestStream(store, dir, stream, options, totals);
}

/** Which source the caller's open file was last time; saves a lookup per call. */
export interface LiveHint {
  dev: number;
  ino: number;
  sourceId: number;
  path: string;
}
