import type { Store } from '../store/api.js';
import type { FeedRow } from '../store/rows.js';

/** Rows per read: a catch-up after a long import goes out page by page. */
const PAGE = 1000;

/**
 * Every event committed to the mirror from now on, by any writer (every host
 * of a fleet mirror), in id order, which is commit order: polled, since
 * another process's commits announce nothing here.
 */
export function followEvents(store: Store, onRows: (rows: FeedRow[]) => void, onError: (err: unknown) => void, everyMs = 100): { stop(): void } {
  let head = store.maxEventId();
  const timer = setInterval(() => {
    try {
      for (;;) {
        const rows = store.eventsAfter(head, PAGE);
        if (rows.length === 0) return;
        head = rows.at(-1)!.id;
        onRows(rows);
      }
    } catch (err) {
      onError(err);
    }
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
