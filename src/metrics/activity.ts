import { MirrorError } from '../errors.js';
import type { EventSource } from '../read/source.js';
import { resolveNow } from './common.js';

export interface ActivityOptions {
  /** At most 200 (larger values are capped); default 50. */
  limit?: number;
  offset?: number;
  /** From a previous page's nextCursor: keyset pagination, fast at any depth. */
  cursor?: string;
  /** t matches type t and every t.*; `all` (the dashboard's default) means no filter. */
  type?: string;
  issue?: number;
  stream?: string;
  /** Epoch seconds (default: now): events stamped later are not shown. */
  now?: number;
}

export interface ActivityFeed {
  events: Record<string, unknown>[];
  total: number;
  hasMore: boolean;
  /** Pass back as `cursor` for the next page; null on the last page. Specific to the backend that made it. */
  nextCursor: string | null;
}

const MAX_LIMIT = 200;

/** Newest first, events as written in the log. */
export function activityFeed(src: EventSource, o: ActivityOptions = {}): ActivityFeed {
  const limit = Math.min(o.limit ?? 50, MAX_LIMIT);
  const offset = o.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
    throw new MirrorError('INVALID_ARGUMENT', 'limit must be a whole number from 1 to 200 and offset a whole number >= 0');
  }
  if (o.cursor !== undefined && o.offset !== undefined) {
    throw new MirrorError('INVALID_ARGUMENT', 'use either offset or cursor, not both');
  }
  const page = src.feed({ streams: [o.stream ?? 'events'], type: o.type === 'all' ? undefined : o.type, issue: o.issue, upTo: resolveNow(o.now), limit, offset, cursor: o.cursor });
  return {
    events: page.events,
    total: page.total,
    hasMore: o.cursor === undefined ? offset + limit < page.total : page.nextCursor !== null,
    nextCursor: page.nextCursor,
  };
}
