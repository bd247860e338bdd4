import { eventForHandout } from '../ingest/handout.js';
import type { NormalEvent } from '../model/event.js';
import type { Store } from '../store/api.js';
import { cursorPosition, encodeCursor, type EventSource } from './source.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, RecordQuery } from '../model/query.js';
import type { LoggedEvent } from '../model/event.js';
import { dayKeyOf } from '../model/rules.js';

/** Finds events through the mirror's clustered (stream, type, time) table and its log-order index. */
export class SqliteSource implements EventSource {
  readonly kind = 'sqlite';
  constructor(private readonly store: Store) {}

  events(q: EventQuery): NormalEvent[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    return this.store.events(q) as NormalEvent[];
  }

  groups(q: GroupQuery): GroupRow[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const rows = this.store.groups(q);
    const dateAt = q.by.indexOf('date');
    return rows.map((r) => ({
      keys: r.slice(0, q.by.length).map((k, i) => (i === dateAt ? dayKeyOf(k as number) : k)) as (string | number | null)[],
      count: r[q.by.length] as number,
      sum: r[q.by.length + 1] as number,
    }));
  }

  feed(q: FeedQuery): FeedPage {
    const total = this.store.feedCount(q);
    const after = q.cursor === undefined ? undefined : cursorPosition(q.cursor, 's');
    const rows = this.store.feedPage(q, after);
    const last = rows.at(-1);
    return {
      events: rows.map((r) => eventForHandout(r.line)),
      total,
      nextCursor: last && rows.length === q.limit ? encodeCursor(['s', ...last.position]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    if (q.streams.length === 0 || q.types?.length === 0) return [];
    const rows = this.store.records(q);
    return rows.map(({ line, ...event }) => ({ event, value: JSON.parse(line) as Record<string, unknown> }));
  }
}
