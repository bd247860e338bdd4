import type { NormalEvent } from '../model/event.js';
import type { EventSource } from '../read/source.js';
import type { Bands } from './config.js';
import { dayKey, hasIssue, isSuccess, mean, resolve, round2, DAY, type MetricOptions } from './common.js';

export type Grade = 'Elite' | 'High' | 'Medium' | 'Low';

export interface DoraGrades {
  deploy_freq: { value: number; unit: 'per day'; grade: Grade };
  lead_time: { value: number; unit: 'hours'; grade: Grade };
  cfr: { value: number; unit: '%'; grade: Grade };
  mttr: { value: number; unit: 'hours'; grade: Grade };
}

const DORA_TYPES = ['pipeline.started', 'pipeline.completed'];
const DORA_FIELDS: (keyof NormalEvent)[] = ['type', 'ts_epoch', 'issue', 'result'];

const GRADES: Grade[] = ['Elite', 'High', 'Medium'];
const atLeast = (v: number, b: number[]): Grade => GRADES[b.findIndex((t) => v >= t)] ?? 'Low';
const below = (v: number, b: number[]): Grade => GRADES[b.findIndex((t) => v < t)] ?? 'Low';

/**
 * Grades from events already in the window, in log order. By default a
 * grade compares the value as shown (rounded) with the bands, as the
 * dashboard does; `unrounded` compares the exact value instead.
 */
export function gradeEvents(events: NormalEvent[], period: number, bands: Bands, unrounded = false): DoraGrades {
  let deploys = 0;
  let completions = 0;
  let failures = 0;
  const lastStart = new Map<number, number>();
  const lastFailure = new Map<number, number>();
  const lead: number[] = [];
  const restore: number[] = [];
  for (const e of events) {
    if (e.type === 'pipeline.started') {
      if (hasIssue(e) && e.ts_epoch > 0) lastStart.set(e.issue, e.ts_epoch);
      continue;
    }
    completions++;
    if (isSuccess(e)) deploys++;
    else failures++;
    if (!hasIssue(e)) continue;
    if (isSuccess(e)) {
      const start = lastStart.get(e.issue);
      if (start !== undefined && e.ts_epoch > start) lead.push((e.ts_epoch - start) / 3600);
      const failedAt = lastFailure.get(e.issue);
      if (failedAt !== undefined && e.ts_epoch > failedAt) restore.push((e.ts_epoch - failedAt) / 3600);
      // A success ends the outage whether or not it came later (docs/metrics.md time to restore).
      lastFailure.delete(e.issue);
    } else if (e.ts_epoch > 0) {
      lastFailure.set(e.issue, e.ts_epoch);
    }
  }
  const shown = (x: number) => (unrounded ? x : round2(x));
  const freq = deploys / period;
  const leadMean = mean(lead.reduce((a, b) => a + b, 0), lead.length);
  const cfr = completions === 0 ? 0 : (failures / completions) * 100;
  const mttrMean = mean(restore.reduce((a, b) => a + b, 0), restore.length);
  return {
    deploy_freq: { value: round2(freq), unit: 'per day', grade: atLeast(shown(freq), bands.deploy_freq) },
    lead_time: { value: round2(leadMean), unit: 'hours', grade: lead.length === 0 ? 'Low' : below(shown(leadMean), bands.lead_time) },
    cfr: { value: round2(cfr), unit: '%', grade: completions === 0 ? 'Low' : below(shown(cfr), bands.cfr) },
    // Known quirk kept from the dashboard: no restore samples grades Elite.
    mttr: { value: round2(mttrMean), unit: 'hours', grade: restore.length === 0 ? 'Elite' : below(shown(mttrMean), bands.lead_time) },
  };
}

export function doraGrades(src: EventSource, o: MetricOptions = {}): DoraGrades {
  const r = resolve(src, o, 7);
  const events = src.events({ streams: r.streams, types: DORA_TYPES, since: r.now - r.period * DAY, upTo: r.now, fields: DORA_FIELDS });
  return gradeEvents(events, r.period, r.config.bands, o.gradeUnrounded);
}

export interface DoraTrend {
  weeks: { week: string; grades: DoraGrades }[];
}

export function doraTrend(src: EventSource, o: MetricOptions = {}): DoraTrend {
  const r = resolve(src, o, 30);
  const weeks = Math.ceil(r.period / 7);
  const ends = Array.from({ length: weeks }, (_, i) => r.now - (weeks - 1 - i) * 7 * DAY);
  const events = src.events({ streams: r.streams, types: DORA_TYPES, since: ends[0]! - 7 * DAY, until: r.now, fields: DORA_FIELDS });
  return {
    weeks: ends.map((end) => ({
      week: dayKey(end),
      grades: gradeEvents(events.filter((e) => e.ts_epoch >= end - 7 * DAY && e.ts_epoch < end), 7, r.config.bands, o.gradeUnrounded),
    })),
  };
}
