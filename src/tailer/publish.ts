import { eventForHandout } from '../ingest/handout.js';
import type { Store } from '../store/api.js';
import type { ChangeFeed } from './feed.js';

const FEED_PAGE = 5000;

/**
 * Hands the rows committed after `lastId` (by this tailer or any other
 * writer of the mirror) to the feed, per stream in log order; returns the
 * new high-water id. Without subscribers it only moves the mark.
 */
export function publishNew(s: Store, feed: ChangeFeed, lastId: number): number {
  if (!feed.active) return s.maxEventId();
  for (;;) {
    const rows = s.eventsAfter(lastId, FEED_PAGE);
    if (rows.length === 0) return lastId;
    lastId = rows.at(-1)!.id;
    const byStream = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byStream.get(r.stream);
      if (list) list.push(r);
      else byStream.set(r.stream, [r]);
    }
    for (const [stream, list] of byStream) {
      list.sort((a, b) => a.ts_epoch - b.ts_epoch || a.rank - b.rank || a.offset - b.offset);
      feed.publish({ stream, events: list.map((r) => eventForHandout(r.line)), lines: list.map((r) => r.line) });
    }
  }
}
