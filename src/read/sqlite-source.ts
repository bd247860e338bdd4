import { eventForHandout } from '../ingest/handout.js';
import type { NormalEvent } from '../model/event.js';
import type { Store } from '../store/open.js';
import { eventsSql, feedCountSql, feedPageSql, groupsSql, recordsSql } from '../store/read-sql.js';
import { cursorPosition, encodeCursor, type EventSource } from './source.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, RecordQuery } from '../model/query.js';
import type { LoggedEvent } from '../model/event.js';
import { dayKeyOf } from '../model/rules.js';

/** Finds events through the indexes on (stream, type, ts_epoch) and (stream, ts_epoch, rank, offset). */
export class SqliteSource implements EventSource {
  readonly kind = 'sqlite';
  constructor(private readonly store: Store) {}

  events(q: EventQuery): NormalEvent[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const { sql, params } = eventsSql(q);
    return this.store.sql.shape(sql).all(...params) as NormalEvent[];
  }

  groups(q: GroupQuery): GroupRow[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const { sql, params } = groupsSql(q);
    const rows = this.store.sql.shape(sql).raw().all(...params) as unknown[][];
    const dateAt = q.by.indexOf('date');
    return rows.map((r) => ({
      keys: r.slice(0, q.by.length).map((k, i) => (i === dateAt ? dayKeyOf(k as number) : k)) as (string | number | null)[],
      count: r[q.by.length] as number,
      sum: r[q.by.length + 1] as number,
    }));
  }

  feed(q: FeedQuery): FeedPage {
    const count = feedCountSql(q);
    const total = (this.store.sql.shape(count.sql).get(...count.params) as { n: number }).n;
    const after = q.cursor === undefined ? undefined : (cursorPosition(q.cursor, 's') as [number, string, number, number]);
    const page = feedPageSql(q, after);
    const rows = this.store.sql.shape(page.sql).all(...page.params) as {
      line: string; ts_epoch: number; stream: string; rank: number; offset: number;
    }[];
    const last = rows.at(-1);
    return {
      events: rows.map((r) => eventForHandout(r.line)),
      total,
      nextCursor: last && rows.length === q.limit ? encodeCursor(['s', last.ts_epoch, last.stream, last.rank, last.offset]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    if (q.streams.length === 0 || q.types?.length === 0) return [];
    const { sql, params } = recordsSql(q);
    const rows = this.store.sql.shape(sql).all(...params) as (NormalEvent & { line: string })[];
    return rows.map(({ line, ...event }) => ({ event, value: JSON.parse(line) as Record<string, unknown> }));
  }
}
