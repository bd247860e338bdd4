import type { PriceTable } from './cost.js';
import type { NormalEvent } from './event.js';

/**
 * What a metric asks of a backend (docs/design.md#invariant-7): the backends differ only in
 * how they find events, never in what a metric means.
 */
export interface EventQuery {
  streams: string[];
  /** Exact event types. */
  types: string[];
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** ts_epoch <= upTo: the helper's `now` (docs/metrics.md "as of now"). */
  upTo?: number;
  /** Leave out events whose epoch is 0 (no usable time). */
  timed?: boolean;
  /** Only these fields need be filled (the SQLite backend fetches just them). */
  fields?: (keyof NormalEvent)[];
}

export type GroupKey = 'stage' | 'date' | 'success' | 'model' | 'issue';

export interface GroupQuery extends EventQuery {
  by: GroupKey[];
  /**
   * duration_s: summed with absent values as 0.
   * cost: the cost of each event (docs/metrics.md "Cost of an event", priced with
   * `prices`); only events whose cost is > 0 are summed, and a group is
   * returned only when its sum is > 0. Its `count` is 0: the rollups price
   * token sums, not events.
   */
  sum?: 'duration_s' | 'cost';
  prices?: PriceTable;
  /** Also each group's least and greatest duration_s (absent as 0) and its sum of positive cost_usd; not with a cost sum, whose groups hold only the events of cost > 0. */
  stats?: boolean;
}

export interface GroupRow {
  /** One per `by` key: stage, model (string or null), issue (number or null), date (YYYY-MM-DD), success (1 or 0). */
  keys: (string | number | null)[];
  count: number;
  sum: number;
  /** With `stats`. */
  min?: number;
  max?: number;
  usd?: number;
}

/** A DORA window: its streams and bounds, as an EventQuery's (the types are DORA's own). */
export interface PairQuery {
  streams: string[];
  since: number;
  until?: number;
  upTo?: number;
}

/**
 * DORA's samples in a window, summed: lead times and times to restore, in
 * seconds (docs/metrics.md helper 4). Seconds, not hours: whole seconds add
 * up exactly in any order, so a mean on a band's edge grades alike from
 * every backend (an hour is no binary fraction).
 */
export interface PairTotals {
  leads: number;
  leadSeconds: number;
  restores: number;
  restoreSeconds: number;
}

export interface FeedQuery {
  streams: string[];
  /** Matches type t exactly or any t.* */
  type?: string;
  issue?: number;
  /** ts_epoch <= upTo */
  upTo?: number;
  limit: number;
  offset: number;
  /** Resume after this position (newest first); from a previous page's nextCursor. */
  cursor?: string;
}

export interface FeedPage {
  events: Record<string, unknown>[];
  total: number;
  nextCursor: string | null;
}

export interface RecordQuery {
  streams: string[];
  /** Exact event types (default: every type). */
  types?: string[];
  /** Only events of this issue (not 0: SQLite finds them through an index of non-zero issues). */
  issue?: number;
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch <= upTo */
  upTo?: number;
  /** Only these fields of `event` need be filled (the SQLite backend fetches just them). */
  fields?: (keyof NormalEvent)[];
  /** Only the last `last` matches (still returned in log order): the backends read them newest first and stop. */
  last?: number;
}
