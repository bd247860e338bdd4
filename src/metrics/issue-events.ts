import { MirrorError } from '../errors.js';
import type { EventSource } from '../read/source.js';
import { resolveNow } from './common.js';

export interface IssueEventsOptions {
  /** The issue number (required, not 0). */
  issue: number;
  /** Epoch seconds (default: now). */
  now?: number;
  /** Streams to read (default ['events']). */
  streams?: string[];
}

export interface IssueEvents {
  issue: number;
  events: Record<string, unknown>[];
}

/** Every event of one issue up to `now`, oldest first, as written (docs/metrics.md helper 13). */
export function issueEvents(src: EventSource, o: IssueEventsOptions): IssueEvents {
  const issue = o?.issue;
  if (typeof issue !== 'number' || !Number.isFinite(issue) || issue === 0) {
    throw new MirrorError('INVALID_ARGUMENT', `issue events need an issue number other than 0, got ${JSON.stringify(issue) ?? String(issue)}`);
  }
  const now = resolveNow(o.now);
  return { issue, events: src.records({ streams: o.streams ?? ['events'], issue, upTo: now, fields: [] }).map((r) => r.value) };
}
