import type { Store } from '../store/api.js';
import { lagOf } from '../ingest/lag.js';
import { listStreams } from '../ingest/layout.js';

/** One stream's rows, rejects and lag, as a scrape reports them. */
export interface StreamGauge {
  /** Another host of a fleet mirror; absent for the server's own. */
  host?: string;
  stream: string;
  rows: number;
  rejects: number;
  behindBytes: number;
  /** Epoch ms since when the oldest unmirrored bytes have waited (lagOf's rule: since the checkpoint last moved, or since a file never read was created), or null when caught up. */
  behindSinceMs: number | null;
}

/**
 * Per stream, what the mirror holds and how far behind its files it is: the
 * sources' own counts and a stat per file, without status's integrity check,
 * prune estimate or line scans, so that it can run on every scrape.
 */
export function streamGauges(store: Store, dir: string): StreamGauge[] {
  const by = new Map<string, StreamGauge>();
  const of = (stream: string): StreamGauge => {
    let g = by.get(stream);
    if (!g) by.set(stream, (g = { stream, rows: 0, rejects: 0, behindBytes: 0, behindSinceMs: null }));
    return g;
  };
  for (const s of store.allSources()) {
    const g = of(s.stream);
    g.rows += s.rows;
    g.rejects += s.rejects;
  }
  for (const [stream, files] of listStreams(dir)) {
    for (const f of files) {
      const lag = lagOf(store, dir, f);
      if (lag.bytes === 0) continue;
      const g = of(stream);
      g.behindBytes += lag.bytes;
      g.behindSinceMs = Math.min(g.behindSinceMs ?? lag.sinceMs, lag.sinceMs);
    }
  }
  return [...by.values()];
}

/**
 * streamGauges, and on a fleet mirror every other host's streams too: what
 * their sources recorded at their last ingest (this server cannot stat their
 * files), waiting since that ingest when they were behind, as lagOf counts.
 */
export function fleetGauges(store: Store, dir: string, hostId: string): StreamGauge[] {
  const own = streamGauges(store, dir);
  if (!store.fleet) return own;
  const others = store.fleet.streams().filter((r) => r.host !== hostId).map((r) => ({
    host: r.host, stream: r.stream, rows: r.rows, rejects: r.rejects, behindBytes: r.behind,
    behindSinceMs: r.behind > 0 && r.updated_at !== null ? Date.parse(r.updated_at) : null,
  }));
  return [...own, ...others];
}
