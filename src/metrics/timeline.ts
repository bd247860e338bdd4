import type { EventSource } from '../read/source.js';
import type { NormalEvent } from '../model/event.js';
import { MirrorError } from '../errors.js';
import { isoSecond, shownTs } from '../model/rules.js';
import { hasIssue, MAX_PERIOD_DAYS, positiveInteger, resolveNow } from './common.js';

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

const STAGE_TYPES = ['stage.started', 'stage.completed', 'stage.failed'];

/**
 * The event's `ts` as written (ts_text holds it where it differs from the
 * epoch's second), or the ISO-8601 UTC second of its epoch when it has no
 * string `ts`. Past a Date's range there is no such second: the answer
 * fails, as the dashboard's `toISOString` does, but saying which event.
 */
function tsOf(e: NormalEvent): string {
  if (e.ts_text !== null) return shownTs(e.ts_text);
  const iso = isoSecond(e.ts_epoch);
  if (iso === null) {
    throw new MirrorError('INVALID_EVENT', `the timeline cannot show the ${e.type} event of issue ${e.issue} at epoch ${e.ts_epoch}: ` +
      'it has no `ts` and its epoch is beyond the times a date can name (8,640,000,000,000 s either side of 1970); ask for a shorter range');
  }
  return iso;
}

/**
 * Stage segments per issue over the last `range` hours (docs/metrics.md
 * helper 12). The segments need no line (ts_text is a column), and the titles
 * only the lines of `pipeline.completed`: two reads, each in log order.
 */
export function timeline(src: EventSource, o: TimelineOptions = {}): Timeline {
  const now = resolveNow(o.now);
  const range = positiveInteger('range (hours)', o.range, 24, MAX_PERIOD_DAYS * 24);
  const window = { streams: o.streams ?? ['events'], since: now - range * 3600, upTo: now };
  // Only an issue with a segment has an entry: the answer's issues.
  const segments = new Map<number, Segment[]>();
  // The segments still running, per issue and stage, latest last: a close takes the last, no search of the issue's list.
  const running = new Map<number, Map<string, Segment[]>>();
  for (const e of src.events({ ...window, types: STAGE_TYPES, fields: ['type', 'ts_epoch', 'issue', 'stage', 'ts_text'] })) {
    if (!hasIssue(e)) continue;
    const stage = e.stage ?? '';
    let open = running.get(e.issue);
    if (e.type === 'stage.started') {
      const segment: Segment = { stage, start: tsOf(e), end: null, status: 'running' };
      let list = segments.get(e.issue);
      if (!list) segments.set(e.issue, (list = []));
      list.push(segment);
      if (!open) running.set(e.issue, (open = new Map()));
      let stack = open.get(stage);
      if (!stack) open.set(stage, (stack = []));
      stack.push(segment);
      continue;
    }
    const closed = open?.get(stage)?.pop();
    if (closed) {
      closed.end = tsOf(e);
      closed.status = e.type === 'stage.completed' ? 'complete' : 'failed';
    }
  }
  const titles = new Map<number, string>();
  for (const r of src.records({ ...window, types: ['pipeline.completed'], fields: ['issue'] })) {
    const e = r.event;
    // The line last: a mirror parses it only when asked.
    if (hasIssue(e) && segments.has(e.issue) && !titles.get(e.issue) && typeof r.value.title === 'string') titles.set(e.issue, r.value.title);
  }
  const issues = [...segments.keys()].sort((a, b) => a - b);
  return { timeline: issues.map((issue) => ({ issue, title: titles.get(issue) ?? '', segments: segments.get(issue)! })) };
}
