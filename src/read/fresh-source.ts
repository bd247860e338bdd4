import { isMirrorError, sqliteCode } from '../errors.js';
import { COSTS_STREAM, importLegacyCosts } from '../import/legacy-costs.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { bytesBehind } from '../ingest/lag.js';
import { streamFiles } from '../ingest/layout.js';
import type { NormalEvent } from '../ingest/normalize.js';
import type { IngestOptions } from '../ingest/options.js';
import type { Store } from '../store/open.js';
import type { EventQuery, EventSource, FeedPage, FeedQuery, GroupQuery, GroupRow, LoggedEvent, RecordQuery } from './source.js';
import { SqliteSource } from './sqlite-source.js';

/**
 * The SQLite backend with invariant 8: before a read touches a stream, the
 * mirror catches up with that stream's files (a cheap incremental ingest),
 * once per helper call. When it cannot write (read-only, or locked by a long
 * import) it answers from what it has and counts how far behind it is.
 */
export class FreshSqliteSource implements EventSource {
  readonly kind = 'sqlite';
  private readonly inner: SqliteSource;
  private readonly fresh = new Set<string>();
  /** Bytes of the read streams not in the mirror at the last read. */
  lagBytes = 0;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
    private readonly ingest: IngestOptions = {},
  ) {
    this.inner = new SqliteSource(store);
  }

  /** Starts a new helper call: every stream is caught up again on first use. */
  beginRead(): void {
    this.fresh.clear();
    this.lagBytes = 0;
  }

  private ensure(streams: string[]): void {
    for (const stream of streams) {
      if (this.fresh.has(stream)) continue;
      this.fresh.add(stream);
      if (this.store.readonly) {
        this.lagBytes += this.behind(stream);
        continue;
      }
      try {
        ingestStream(this.store, this.dir, stream, this.ingest);
        if (stream === COSTS_STREAM) importLegacyCosts(this.store, this.dir, { ifChanged: true });
      } catch (err) {
        const code = sqliteCode(err) ?? '';
        if (!(code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_READONLY') || isMirrorError(err, 'DB_LOCKED'))) throw err;
        this.lagBytes += this.behind(stream);
      }
    }
  }

  private behind(stream: string): number {
    return streamFiles(this.dir, stream).reduce((n, f) => n + bytesBehind(this.store, this.dir, f), 0);
  }

  events(q: EventQuery): NormalEvent[] {
    this.ensure(q.streams);
    return this.inner.events(q);
  }

  groups(q: GroupQuery): GroupRow[] {
    this.ensure(q.streams);
    return this.inner.groups(q);
  }

  feed(q: FeedQuery): FeedPage {
    this.ensure(q.streams);
    return this.inner.feed(q);
  }

  records(q: RecordQuery): LoggedEvent[] {
    this.ensure(q.streams);
    return this.inner.records(q);
  }
}
