import { missingSources } from '../ingest/sources.js';
import type { Store } from '../store/api.js';
import type { DayRef, PairRef, PrunableRow, SourceRow } from '../store/rows.js';

export interface PruneOptions {
  /** Only sources whose newest event is older than this (epoch seconds). */
  before?: number;
  /** Say what would go, change nothing. */
  dryRun?: boolean;
  /** The log directory: files deleted from it since the last ingest count as gone too. */
  dir?: string;
}

/** A source prune drops; `bytes` are what the mirror stores of its lines (token-coded, about half their text). */
export type PrunedSource = Omit<PrunableRow, 'id' | 'newest'>;

export interface PruneResult {
  dryRun: boolean;
  sources: PrunedSource[];
  rows: number;
  rejects: number;
  bytes: number;
}

/**
 * The history rows that pruning would drop, and how many bytes of lines the
 * mirror stores for them; also those of `deleted` (sources whose files were
 * deleted since the last ingest, which has not marked them gone yet).
 */
export function prunable(store: Store, before?: number, deleted: SourceRow[] = []): PrunableRow[] {
  const gone = deleted.map((s) => store.prunableSource(s.id)).filter((r) => r !== undefined);
  const found = [...store.prunable(), ...gone.map((r) => ({ ...r, state: 'gone' }))];
  return found.filter((c) => before === undefined || (c.newest ?? 0) < before);
}

/**
 * Drops the rows of files that are gone (deleted, or truncated with no copy
 * left): the history docs/design.md#invariant-1 keeps until the user asks. The rollup
 * cells they fell in (day_totals, issue_costs; all_totals follows
 * day_totals) are counted again from the rows left, and the DORA pairs of
 * the issues they held paired again (dora_pairs), in the same
 * transaction, so they still equal the rows.
 */
export function pruneHistory(store: Store, o: PruneOptions = {}): PruneResult {
  return o.dryRun ? prune(store, o) : store.transaction(prune)(store, o);
}

function prune(store: Store, o: PruneOptions): PruneResult {
  const found = prunable(store, o.before, o.dir === undefined ? [] : missingSources(store, o.dir));
  if (!o.dryRun) {
    const days = new Map<string, DayRef>();
    const pairs: PairRef[] = [];
    for (const c of found) {
      for (const d of store.daysOfSource(c.id)) days.set(JSON.stringify([d.stream, d.type, d.day]), d);
      pairs.push(...store.pairsOfSource(c.id));
      store.detachCopies(c.id);
      store.deleteSourceRows(c.id);
    }
    for (const d of days.values()) store.recountDay(d);
    store.repairPairs(pairs);
  }
  const sources = found.map(({ stream, path, state, rows, rejects, bytes }) => ({ stream, path, state, rows, rejects, bytes }));
  return {
    dryRun: Boolean(o.dryRun),
    sources,
    rows: sources.reduce((a, s) => a + s.rows, 0),
    rejects: sources.reduce((a, s) => a + s.rejects, 0),
    bytes: sources.reduce((a, s) => a + s.bytes, 0),
  };
}
