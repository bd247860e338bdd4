import type { Store } from '../store/open.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { bytesBehind } from '../ingest/lag.js';
import { listStreams } from '../ingest/layout.js';
import { emptyTotals, type IngestOptions, type IngestTotals } from '../ingest/options.js';
import { importLegacyCosts, type LegacySummary } from './legacy-costs.js';

export interface ImportOptions extends IngestOptions {
  /** Only these streams (default: every stream in the directory). */
  streams?: string[];
  /** Import legacy JSON state such as costs.json (default true). */
  legacy?: boolean;
  /** Called once before ingesting with the number of bytes there are to read. */
  onStart?: (totalBytes: number) => void;
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
  // A stream whose files are all deleted is ingested too, so that its sources are marked gone (invariant 1).
  const known = store.liveStreams();
  const streams = opts.streams ?? [...new Set([...all.keys(), ...known])].sort();
  // What this import has to read, for the progress bar.
  opts.onStart?.(streams.flatMap((s) => all.get(s) ?? []).reduce((n, f) => n + bytesBehind(store, dir, f), 0));
  const totals = emptyTotals();
  for (const stream of streams) ingestStream(store, dir, stream, opts, totals);
  const legacy = opts.legacy === false ? undefined : importLegacyCosts(store, dir);
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
