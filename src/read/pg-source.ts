import type { NormalEvent } from '../model/event.js';
import type { SyncPg } from '../store/pg/bridge.js';
import { pgEventsSql, pgFeedCountSql, pgFeedPageSql, pgGroupsSql, pgRecordsSql } from '../store/pg/read-sql.js';
import { cursorPosition, encodeCursor, type EventSource } from './source.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, RecordQuery } from '../model/query.js';
import type { LoggedEvent } from '../model/event.js';
import { dayKeyOf } from '../model/rules.js';

/**
 * The fleet backend: the same queries as SqliteSource, answered by
 * PostgreSQL over every host, or over one when `host` is given.
 */
export class PgSource implements EventSource {
  readonly kind = 'postgres';
  constructor(
    private readonly pg: SyncPg,
    private readonly host?: string,
  ) {}

  events(q: EventQuery): NormalEvent[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const { sql, params } = pgEventsSql({ ...q, host: this.host });
    return this.pg.query<NormalEvent>(sql, params).rows;
  }

  groups(q: GroupQuery): GroupRow[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const { sql, params } = pgGroupsSql({ ...q, host: this.host });
    const dateAt = q.by.indexOf('date');
    return this.pg.arrays(sql, params).map((r) => ({
      keys: r.slice(0, q.by.length).map((k, i) => (i === dateAt ? dayKeyOf(k as number) : k)) as (string | number | null)[],
      count: r[q.by.length] as number,
      sum: r[q.by.length + 1] as number,
    }));
  }

  feed(q: FeedQuery): FeedPage {
    const count = pgFeedCountSql({ ...q, host: this.host });
    const total = this.pg.query<{ n: number }>(count.sql, count.params).rows[0]!.n;
    const after = q.cursor === undefined ? undefined : (cursorPosition(q.cursor, 'p') as [number, string, string, number, number]);
    const page = pgFeedPageSql({ ...q, host: this.host }, after);
    const rows = this.pg.query<{ line: string; ts_epoch: number; stream: string; host: string; rank: number; offset: number }>(page.sql, page.params).rows;
    const last = rows.at(-1);
    return {
      events: rows.map((r) => JSON.parse(r.line) as Record<string, unknown>),
      total,
      nextCursor: last && rows.length === q.limit ? encodeCursor(['p', last.ts_epoch, last.stream, last.host, last.rank, last.offset]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    if (q.streams.length === 0 || q.types?.length === 0) return [];
    const { sql, params } = pgRecordsSql({ ...q, host: this.host });
    const rows = this.pg.query<NormalEvent & { line: string }>(sql, params).rows;
    return rows.map(({ line, ...event }) => ({ event, value: JSON.parse(line) as Record<string, unknown> }));
  }
}
