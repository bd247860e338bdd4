import type { EventSource } from '../read/source.js';
import { resolveNow } from './common.js';

export interface PatrolOptions {
  /** Epoch seconds (default: now). */
  now?: number;
  /** Streams to read (default ['events']). */
  streams?: string[];
}

export interface Patrol {
  findings: Record<string, unknown>[];
  runs: Record<string, unknown>[];
}

/** How many of each the dashboard's patrol panel shows. */
const FINDINGS = 50;
const RUNS = 20;

/** The last patrol findings and runs up to `now`, each oldest first, as written (docs/metrics.md helper 14). */
export function patrol(src: EventSource, o: PatrolOptions = {}): Patrol {
  const upTo = resolveNow(o.now);
  const streams = o.streams ?? ['events'];
  const last = (type: string, n: number) => src.records({ streams, types: [type], upTo, last: n, fields: [] }).map((r) => r.value);
  return { findings: last('patrol.finding', FINDINGS), runs: last('patrol.completed', RUNS) };
}
