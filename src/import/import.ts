import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/open.js';
import type { SourceRow } from '../store/statements.js';
import { ingestStream } from '../ingest/ingest-stream.js';
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

/** Bytes between each file's checkpoint and its end: what this import has to read. */
function bytesToRead(store: Store, dir: string, files: Map<string, { name: string }[]>): number {
  const sources = store.sql.get('allSources').all() as SourceRow[];
  let total = 0;
  for (const list of files.values()) {
    for (const f of list) {
      try {
        const st = statSync(join(dir, f.name));
        const src = sources.find((s) => s.dev === st.dev && s.ino === st.ino && s.state === 'active');
        total += Math.max(0, st.size - (src?.offset ?? 0));
      } catch {
        // gone since the listing; the ingest will skip it too
      }
    }
  }
  return total;
}

/**
 * Brings every log in `dir` into the mirror; safe to repeat and to interrupt
 * (each batch commits with its checkpoint). Records completion only at the end.
 */
export function importAll(store: Store, dir: string, opts: ImportOptions = {}): ImportSummary {
  const started = Date.now();
  const all = listStreams(dir);
  const streams = opts.streams ?? [...all.keys()];
  const selected = new Map(streams.map((s) => [s, all.get(s) ?? []]));
  opts.onStart?.(bytesToRead(store, dir, selected));
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
  store.sql.get('setMeta').run('last_import', JSON.stringify(summary));
  return summary;
}
