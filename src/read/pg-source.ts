import type { NormalEvent } from '../model/event.js';
import type { Store } from '../store/api.js';
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
  readonly remote = true;
  constructor(
    private readonly store: Store,
    private readonly host?: string,
  ) {}

  events(q: EventQuery): NormalEvent[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    return this.store.events({ ...q, host: this.host }) as NormalEvent[];
  }

  groups(q: GroupQuery): GroupRow[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const dateAt = q.by.indexOf('date');
    return this.store.groups({ ...q, host: this.host }).map((r) => ({
      keys: r.slice(0, q.by.length).map((k, i) => (i === dateAt ? dayKeyOf(k as number) : k)) as (string | number | null)[],
      count: r[q.by.length] as number,
      sum: r[q.by.length + 1] as number,
    }));
  }

  feed(q: FeedQuery): FeedPage {
    const total = this.store.feedCount({ ...q, host: this.host });
    const after = q.cursor === undefined ? undefined : cursorPosition(q.cursor, 'p');
    const rows = this.store.feedPage({ ...q, host: this.host }, after);
    const last = rows.at(-1);
    return {
      events: rows.map((r) => JSON.parse(r.line) as Record<string, unknown>),
      total,
      nextCursor: last && rows.length === q.limit ? encodeCursor(['p', ...last.position]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    if (q.streams.length === 0 || q.types?.length === 0) return [];
    const rows = this.store.records({ ...q, host: this.host });
    return rows.map(({ line, ...event }) => ({ event, value: JSON.parse(line) as Record<string, unknown> }));
  }
}
