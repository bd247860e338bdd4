import { isMirrorError, sqliteCode } from '../errors.js';
import { importLegacyCosts } from '../import/legacy-costs.js';
import { COSTS_STREAM } from '../model/streams.js';
import { ingestStream } from '../ingest/ingest-stream.js';
import { lagOf } from '../ingest/lag.js';
import { streamFiles } from '../ingest/layout.js';
import type { NormalEvent } from '../model/event.js';
import type { IngestOptions } from '../ingest/options.js';
import type { Store } from '../store/api.js';
import type { EventSource } from './source.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, PairQuery, PairTotals, RecordQuery } from '../model/query.js';
import type { LoggedEvent } from '../model/event.js';
import { MirrorSource } from './mirror-source.js';

/** Thrown by a read that could not catch up and may not answer behind: the caller answers from the files instead. */
export class MirrorBehind extends Error {}

/**
 * The SQLite backend with docs/design.md#invariant-8: before a read touches a stream, the
 * mirror catches up with that stream's files (a cheap incremental ingest),
 * once per helper call. When it cannot write (read-only, or locked by a long
 * import) it answers from what it has only when `maxLagSeconds` allows that
 * lag (and counts how far behind it is); otherwise it throws MirrorBehind.
 */
export class FreshSqliteSource implements EventSource {
  readonly kind = 'sqlite';
  private readonly inner: MirrorSource;
  private readonly fresh = new Set<string>();
  /** Bytes of the read streams not in the mirror at the last read. */
  lagBytes = 0;
  /** Seconds since the oldest of those bytes could have been mirrored. */
  lagSeconds = 0;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
    private readonly ingest: IngestOptions = {},
    private readonly maxLagSeconds = Number.POSITIVE_INFINITY,
  ) {
    this.inner = new MirrorSource(store, { kind: 'sqlite' });
  }

  /** Starts a new helper call: every stream is caught up again on first use. */
  beginRead(): void {
    this.fresh.clear();
    this.lagBytes = 0;
    this.lagSeconds = 0;
  }

  /** Catches the streams up; a mirror without its indexes answers only an explicit `--source sqlite` (slowly, but the same). */
  private ensure(streams: string[]): void {
    for (const stream of streams) {
      if (this.fresh.has(stream)) continue;
      this.fresh.add(stream);
      let why = 'it is read-only';
      if (!this.store.readonly) {
        try {
          ingestStream(this.store, this.dir, stream, this.ingest);
          if (stream === COSTS_STREAM) importLegacyCosts(this.store, this.dir, { ifChanged: true });
          continue;
        } catch (err) {
          const code = sqliteCode(err) ?? '';
          if (!(code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_READONLY') || isMirrorError(err, 'DB_LOCKED'))) throw err;
          why = code.startsWith('SQLITE_READONLY') ? 'it is read-only' : 'another process holds its write lock';
        }
      }
      this.behind(stream, why);
    }
    if (this.maxLagSeconds !== Number.POSITIVE_INFINITY && this.store.indexesPending()) {
      throw new MirrorBehind('the mirror\'s indexes are pending (an import is loading, or was interrupted: run `jsonl-mirror import`); ' +
        'answered from the files instead');
    }
  }

  private behind(stream: string, why: string): void {
    const now = Date.now();
    for (const f of streamFiles(this.dir, stream)) {
      const lag = lagOf(this.store, this.dir, f);
      if (lag.bytes === 0) continue;
      this.lagBytes += lag.bytes;
      this.lagSeconds = Math.max(this.lagSeconds, (now - lag.sinceMs) / 1000);
    }
    if (this.lagBytes > 0 && this.lagSeconds > this.maxLagSeconds) {
      throw new MirrorBehind(`the mirror could not catch up (${why}) and is ${this.lagBytes} bytes and ` +
        `${this.lagSeconds.toFixed(1)} s behind the files; answered from the files instead`);
    }
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

  pairs(q: PairQuery): PairTotals | undefined {
    this.ensure(q.streams);
    return this.inner.pairs(q);
  }
}
