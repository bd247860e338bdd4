import { MirrorError } from '../errors.js';
import { costOf, type PriceTable } from './cost.js';
import type { NormalEvent } from '../ingest/normalize.js';

/**
 * What a metric asks of a backend (invariant 7): the two backends differ only
 * in how they find events, never in what a metric means.
 */
export interface EventQuery {
  streams: string[];
  /** Exact event types. */
  types: string[];
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** ts_epoch <= upTo: the helper's `now` (METRICS.md "as of now"). */
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
   * cost: the cost of each event (METRICS.md "Cost of an event", priced with
   * `prices`); only events whose cost is > 0 are counted and summed.
   */
  sum?: 'duration_s' | 'cost';
  prices?: PriceTable;
}

export interface GroupRow {
  /** One per `by` key: stage, model (string or null), issue (number or null), date (YYYY-MM-DD), success (1 or 0). */
  keys: (string | number | null)[];
  count: number;
  sum: number;
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
}

/** An event as normalised and as written in the log. */
export interface LoggedEvent {
  event: NormalEvent;
  value: Record<string, unknown>;
}

export interface EventSource {
  readonly kind: 'sqlite' | 'scan' | 'postgres';
  /** Matching events, normalised, in log order (ascending ts_epoch, then stream, then position in the log). */
  events(q: EventQuery): NormalEvent[];
  /** Counts and sums of matching events per group. */
  groups(q: GroupQuery): GroupRow[];
  /** Matching events as written in the log, newest first. */
  feed(q: FeedQuery): FeedPage;
  /** Matching events, each also as written in the log, in log order. */
  records(q: RecordQuery): LoggedEvent[];
}

/** Counts and sums of events already filtered by `q`: the scan's (and any in-memory source's) GROUP BY. */
export function groupEvents(events: NormalEvent[], q: GroupQuery): GroupRow[] {
  const byKey = new Map<string, GroupRow>();
  for (const e of events) {
    const v = q.sum === 'cost' ? costOf(e, q.prices!) : q.sum ? (e[q.sum] ?? 0) : 0;
    if (q.sum === 'cost' && !(v > 0)) continue;
    const keys = q.by.map((k) => (k === 'date' ? dateOf(e.ts_epoch) : k === 'success' ? (e.result === 'success' ? 1 : 0) : e[k]));
    const id = JSON.stringify(keys);
    let row = byKey.get(id);
    if (!row) {
      row = { keys, count: 0, sum: 0 };
      byKey.set(id, row);
    }
    row.count++;
    row.sum += v;
  }
  return [...byKey.values()];
}

export function dateOf(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 10);
}

export function feedTypeMatches(type: string | null, want: string | undefined): boolean {
  return want === undefined || type === want || (type !== null && type.startsWith(`${want}.`));
}

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The position a cursor from backend `kind` ('s' sqlite, 'f' scan, 'p' postgres) points at; a typed error otherwise. */
export function cursorPosition(cursor: string, kind: 's' | 'f' | 'p'): (string | number)[] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v[0] !== kind) {
    throw new MirrorError(
      'INVALID_ARGUMENT',
      `the cursor "${cursor}" is not one this backend (${{ s: 'sqlite', f: 'scan', p: 'postgres' }[kind]}) returned; start again without --cursor`,
    );
  }
  return v.slice(1) as (string | number)[];
}
