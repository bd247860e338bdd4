import type { EventSource } from '../read/source.js';
import type { LoggedEvent } from '../model/event.js';
import { hasIssue, positiveInteger, resolveNow } from './common.js';

export interface TimelineOptions {
  /** Epoch seconds (default: now). */
  now?: number;
  /** Hours before `now` (default 24). */
  range?: number;
  /** Streams to read (default ['events']). */
  streams?: string[];
}

export interface Segment {
  stage: string;
  start: string;
  end: string | null;
  status: 'running' | 'complete' | 'failed';
}

export interface Timeline {
  timeline: { issue: number; title: string; segments: Segment[] }[];
}

const TIMELINE_TYPES = ['stage.started', 'stage.completed', 'stage.failed', 'pipeline.completed'];

/** The event's `ts` as written, or the ISO-8601 UTC second of its epoch when it has no string `ts`. */
function tsOf({ event, value }: LoggedEvent): string {
  return typeof value.ts === 'string' ? value.ts : new Date(event.ts_epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Stage segments per issue over the last `range` hours (docs/metrics.md helper 12). */
export function timeline(src: EventSource, o: TimelineOptions = {}): Timeline {
  const now = resolveNow(o.now);
  const range = positiveInteger('range (hours)', o.range, 24);
  const byIssue = new Map<number, { title: string; segments: Segment[] }>();
  const records = src.records({
    streams: o.streams ?? ['events'], types: TIMELINE_TYPES, since: now - range * 3600, upTo: now, fields: ['type', 'ts_epoch', 'issue', 'stage'],
  });
  for (const r of records) {
    const e = r.event;
    if (!hasIssue(e)) continue;
    let entry = byIssue.get(e.issue);
    if (!entry) {
      entry = { title: '', segments: [] };
      byIssue.set(e.issue, entry);
    }
    if (e.type === 'pipeline.completed') {
      if (entry.title === '' && typeof r.value.title === 'string') entry.title = r.value.title;
      continue;
    }
    const stage = e.stage ?? '';
    if (e.type === 'stage.started') {
      entry.segments.push({ stage, start: tsOf(r), end: null, status: 'running' });
      continue;
    }
    const open = entry.segments.findLast((s) => s.status === 'running' && s.stage === stage);
    if (open) {
      open.end = tsOf(r);
      open.status = e.type === 'stage.completed' ? 'complete' : 'failed';
    }
  }
  const issues = [...byIssue.keys()].filter((i) => byIssue.get(i)!.segments.length > 0).sort((a, b) => a - b);
  return { timeline: issues.map((issue) => ({ issue, ...byIssue.get(issue)! })) };
}
