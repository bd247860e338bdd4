import type { Store } from '../store/api.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { bytesBehind } from '../ingest/lag.js';
import { listStreams } from '../ingest/layout.js';
import { emptyTotals, type IngestOptions, type IngestTotals } from '../ingest/options.js';
import { ParseAhead } from '../ingest/parse-ahead.js';
import { importLegacyCosts, type LegacySummary } from './legacy-costs.js';

export interface ImportOptions extends IngestOptions {
  /** Only these streams (default: every stream in the directory). */
  streams?: string[];
  /** Import legacy JSON state such as costs.json (default true). */
  legacy?: boolean;
  /** Called once before ingesting with the number of bytes there are to read. */
  onStart?: (totalBytes: number) => void;
  /**
   * Load with the secondary indexes dropped and built at the end (SQLite):
   * true always, false never; by default when the mirror is far behind
   * (see bulkWorthIt) or an earlier bulk load was interrupted.
   */
  bulk?: boolean;
  /** In a bulk load, parse the lines in a worker thread a batch ahead of the inserts (default true; the bench's A/B turns it off). */
  parseWorker?: boolean;
}

/** Below this backlog an import is over in well under a second: keep the indexes (and reads on the mirror) as they are. */
export const BULK_MIN_BYTES = 16 * 1024 * 1024;

/**
 * A bulk load pays when it loads more than the mirror holds: building an
 * index sorted at the end costs about what the rows already there cost
 * again, and is cheaper per row than keeping it up to date row by row.
 */
export function bulkWorthIt(bytesBehind: number, bytesMirrored: number): boolean {
  return bytesBehind >= BULK_MIN_BYTES && bytesBehind > bytesMirrored;
}

export interface ImportSummary extends IngestTotals {
  streams: string[];
  legacy: LegacySummary | null;
  seconds: number;
  completedAt: string;
}

/**
 * Brings every log in `dir` into the mirror; safe to repeat and to interrupt
 * (each batch commits with its checkpoint). Records completion only at the end.
 */
export function importAll(store: Store, dir: string, opts: ImportOptions = {}): ImportSummary {
  const started = Date.now();
  const all = listStreams(dir);
  // A stream whose files are all deleted is ingested too, so that its sources are marked gone (docs/design.md#invariant-1).
  const known = store.liveStreams();
  const streams = opts.streams ?? [...new Set([...all.keys(), ...known])].sort();
  // What this import has to read, for the progress bar.
  const behind = streams.flatMap((s) => all.get(s) ?? []).reduce((n, f) => n + bytesBehind(store, dir, f), 0);
  opts.onStart?.(behind);
  const interrupted = store.indexesPending();
  if (interrupted) store.bulkLoad?.checkInterrupted();
  const bulk = store.bulkLoad && opts.bulk !== false &&
    (opts.bulk === true || interrupted || bulkWorthIt(behind, store.allSources().reduce((n, s) => n + s.offset, 0))) ? store.bulkLoad : undefined;
  bulk?.enter();
  const totals = emptyTotals();
  let legacy: LegacySummary | undefined;
  // Only a bulk load reads enough for a worker thread's start-up (~30 ms) to pay; the caller may bring its own.
  const ownAhead = !opts.parseAhead && bulk && opts.parseWorker !== false ? ParseAhead.create() : undefined;
  const ingestOpts = ownAhead ? { ...opts, parseAhead: ownAhead } : opts;
  try {
    for (const stream of streams) ingestStream(store, dir, stream, ingestOpts, totals, all.get(stream) ?? []);
    legacy = opts.legacy === false ? undefined : importLegacyCosts(store, dir);
  } finally {
    ownAhead?.close();
    bulk?.leave();
  }
  bulk?.finishIndexes();
  const completedAt = new Date().toISOString();
  const summary: ImportSummary = {
    ...totals,
    streams,
    legacy: legacy ?? null,
    seconds: (Date.now() - started) / 1000,
    completedAt,
  };
  store.setMeta('last_import', JSON.stringify(summary));
  return summary;
}
