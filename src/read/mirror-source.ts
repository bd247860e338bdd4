import { eventForHandout } from '../ingest/handout.js';
import type { LoggedEvent, NormalEvent } from '../model/event.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, PairQuery, PairTotals, RecordQuery } from '../model/query.js';
import { dayKeyOf } from '../model/rules.js';
import type { Store } from '../store/api.js';
import { cursorPosition, encodeCursor, type EventSource } from './source.js';

export interface MirrorSourceOptions {
  /** Which backend it is, as readers and cursors name it: a cursor of one backend is refused by another. */
  kind: 'sqlite' | 'postgres';
  /** A fleet mirror: only this host's events (default: every host's). */
  host?: string;
  /** Its answers wait on a database server's round trips. */
  remote?: boolean;
}

const CURSOR_TAG = { sqlite: 's', postgres: 'p' } as const;

/**
 * The mirror as an event source, over any engine's store: the store's
 * indexes find the events (a fleet's over every host, or one), and handed-out
 * lines pass the same nesting guard as the scan's (ingest/handout.ts).
 */
export class MirrorSource implements EventSource {
  readonly kind: 'sqlite' | 'postgres';
  readonly remote: boolean;
  private readonly host: string | undefined;
  private readonly tag: 's' | 'p';

  constructor(
    private readonly store: Store,
    o: MirrorSourceOptions,
  ) {
    this.kind = o.kind;
    this.remote = o.remote ?? false;
    this.host = o.host;
    this.tag = CURSOR_TAG[o.kind];
  }

  events(q: EventQuery): NormalEvent[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    return this.store.events({ ...q, host: this.host }) as NormalEvent[];
  }

  groups(q: GroupQuery): GroupRow[] {
    if (q.streams.length === 0 || q.types.length === 0) return [];
    const dateAt = q.by.indexOf('date');
    const at = q.by.length;
    return this.store.groups({ ...q, host: this.host }).map((r) => ({
      keys: r.slice(0, at).map((k, i) => (i === dateAt ? dayKeyOf(k as number) : k)) as (string | number | null)[],
      count: r[at] as number,
      sum: r[at + 1] as number,
      ...(q.stats ? { min: r[at + 2] as number, max: r[at + 3] as number, usd: r[at + 4] as number } : {}),
    }));
  }

  pairs(q: PairQuery): PairTotals | undefined {
    return this.store.pairTotals({ ...q, host: this.host });
  }

  feed(q: FeedQuery): FeedPage {
    const total = this.store.feedCount({ ...q, host: this.host });
    const after = q.cursor === undefined ? undefined : cursorPosition(q.cursor, this.tag);
    const rows = this.store.feedPage({ ...q, host: this.host }, after);
    const last = rows.at(-1);
    return {
      events: rows.map((r) => eventForHandout(r.line)),
      total,
      nextCursor: last && rows.length === q.limit ? encodeCursor([this.tag, ...last.position]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    if (q.streams.length === 0 || q.types?.length === 0) return [];
    const rows = this.store.records({ ...q, host: this.host });
    return rows.map(({ line, ...event }) => new MirroredRecord(event as NormalEvent, line));
  }
}

/** A mirrored event whose line is parsed when first asked for: the timeline wants the titles of a few of the lines it reads. */
class MirroredRecord implements LoggedEvent {
  private parsed: Record<string, unknown> | undefined;

  constructor(
    readonly event: NormalEvent,
    private readonly line: string,
  ) {}

  get value(): Record<string, unknown> {
    return (this.parsed ??= JSON.parse(this.line) as Record<string, unknown>);
  }
}
