import { MirrorError } from '../errors.js';
import { costOf } from '../model/cost.js';
import type { LoggedEvent, NormalEvent } from '../model/event.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, PairQuery, PairTotals, RecordQuery } from '../model/query.js';
import { dayKey, isSuccess } from '../model/rules.js';

export interface EventSource {
  readonly kind: 'sqlite' | 'scan' | 'postgres';
  /** Its answers wait on a database server's round trips: a server asks it off its event loop. */
  readonly remote?: boolean;
  /** Matching events, normalised, in log order (ascending ts_epoch, then stream, then position in the log). */
  events(q: EventQuery): NormalEvent[];
  /** Counts and sums of matching events per group. */
  groups(q: GroupQuery): GroupRow[];
  /** Matching events as written in the log, newest first. */
  feed(q: FeedQuery): FeedPage;
  /** Matching events, each also as written in the log, in log order. */
  records(q: RecordQuery): LoggedEvent[];
  /** DORA's samples of a window, when the backend keeps them paired (sql/009); undefined otherwise: then DORA pairs the window's events. */
  pairs?(q: PairQuery): PairTotals | undefined;
}

/** Counts and sums of events already filtered by `q`: the scan's (and any in-memory source's) GROUP BY. */
export function groupEvents(events: NormalEvent[], q: GroupQuery): GroupRow[] {
  const byKey = new Map<string, GroupRow>();
  for (const e of events) {
    const v = q.sum === 'cost' ? costOf(e, q.prices!) : q.sum ? (e[q.sum] ?? 0) : 0;
    if (q.sum === 'cost' && !(v > 0)) continue;
    const keys = q.by.map((k) => (k === 'date' ? dayKey(e.ts_epoch) : k === 'success' ? (isSuccess(e) ? 1 : 0) : e[k]));
    const id = JSON.stringify(keys);
    let row = byKey.get(id);
    if (!row) {
      row = { keys, count: 0, sum: 0, ...(q.stats ? { min: Infinity, max: -Infinity, usd: 0 } : {}) };
      byKey.set(id, row);
    }
    if (q.sum !== 'cost') row.count++;
    row.sum += v;
    if (q.stats) {
      const d = e.duration_s ?? 0;
      row.min = Math.min(row.min!, d);
      row.max = Math.max(row.max!, d);
      if (e.cost_usd !== null && e.cost_usd > 0) row.usd! += e.cost_usd;
    }
  }
  return [...byKey.values()];
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
