import type { NormalEvent } from '../model/event.js';
import type { EventSource } from '../read/source.js';
import type { Bands } from './config.js';
import { dayKey, hasIssue, isSuccess, mean, resolve, round2, DAY, type MetricOptions } from './common.js';
import { PIPELINE_COMPLETED, PIPELINE_STARTED } from '../model/rules.js';
import type { PairQuery, PairTotals } from '../model/query.js';

export type Grade = 'Elite' | 'High' | 'Medium' | 'Low';

export interface DoraGrades {
  deploy_freq: { value: number; unit: 'per day'; grade: Grade };
  lead_time: { value: number; unit: 'hours'; grade: Grade };
  cfr: { value: number; unit: '%'; grade: Grade };
  mttr: { value: number; unit: 'hours'; grade: Grade };
}

const DORA_TYPES = [PIPELINE_STARTED, PIPELINE_COMPLETED];
const DORA_FIELDS: (keyof NormalEvent)[] = ['type', 'ts_epoch', 'issue', 'result'];

const GRADES: Grade[] = ['Elite', 'High', 'Medium'];
const atLeast = (v: number, b: number[]): Grade => GRADES[b.findIndex((t) => v >= t)] ?? 'Low';
const below = (v: number, b: number[]): Grade => GRADES[b.findIndex((t) => v < t)] ?? 'Low';

/** What a window's grades come from: its completions, and its lead-time and time-to-restore samples summed (seconds). */
export type DoraTally = PairTotals & { deploys: number; completions: number; failures: number };

/** The tally of events already in the window, in log order (docs/metrics.md helper 4): what kept pairs must equal. */
export function tallyEvents(events: NormalEvent[]): DoraTally {
  const t: DoraTally = { deploys: 0, completions: 0, failures: 0, leads: 0, leadSeconds: 0, restores: 0, restoreSeconds: 0 };
  const lastStart = new Map<number, number>();
  const lastFailure = new Map<number, number>();
  for (const e of events) {
    if (e.type === PIPELINE_STARTED) {
      if (hasIssue(e) && e.ts_epoch > 0) lastStart.set(e.issue, e.ts_epoch);
      continue;
    }
    t.completions++;
    if (isSuccess(e)) t.deploys++;
    else t.failures++;
    if (!hasIssue(e)) continue;
    if (isSuccess(e)) {
      const start = lastStart.get(e.issue);
      if (start !== undefined && e.ts_epoch > start) {
        t.leads++;
        t.leadSeconds += e.ts_epoch - start;
      }
      const failedAt = lastFailure.get(e.issue);
      if (failedAt !== undefined && e.ts_epoch > failedAt) {
        t.restores++;
        t.restoreSeconds += e.ts_epoch - failedAt;
      }
      // A success ends the outage whether or not it came later (docs/metrics.md time to restore).
      lastFailure.delete(e.issue);
    } else if (e.ts_epoch > 0) {
      lastFailure.set(e.issue, e.ts_epoch);
    }
  }
  return t;
}

/**
 * The window's tally from the backend's completion counts and the pairs it
 * keeps (sql/009), or undefined when it keeps none that can answer: then
 * the caller pairs the window's events itself.
 */
function tallyKept(src: EventSource, w: PairQuery): DoraTally | undefined {
  const pairs = src.pairs?.(w);
  if (!pairs) return undefined;
  let deploys = 0;
  let failures = 0;
  for (const g of src.groups({ ...w, types: [PIPELINE_COMPLETED], by: ['success'] })) {
    if (g.keys[0] === 1) deploys += g.count;
    else failures += g.count;
  }
  return { ...pairs, deploys, failures, completions: deploys + failures };
}

/**
 * By default a grade compares the value as shown (rounded) with the bands,
 * as the dashboard does; `unrounded` compares the exact value instead.
 */
function gradeTally(t: DoraTally, period: number, bands: Bands, unrounded = false): DoraGrades {
  const shown = (x: number) => (unrounded ? x : round2(x));
  const freq = t.deploys / period;
  const leadMean = mean(t.leadSeconds, t.leads) / 3600;
  const cfr = t.completions === 0 ? 0 : (t.failures / t.completions) * 100;
  const mttrMean = mean(t.restoreSeconds, t.restores) / 3600;
  return {
    deploy_freq: { value: round2(freq), unit: 'per day', grade: atLeast(shown(freq), bands.deploy_freq) },
    lead_time: { value: round2(leadMean), unit: 'hours', grade: t.leads === 0 ? 'Low' : below(shown(leadMean), bands.lead_time) },
    cfr: { value: round2(cfr), unit: '%', grade: t.completions === 0 ? 'Low' : below(shown(cfr), bands.cfr) },
    // Known quirk kept from the dashboard: no restore samples grades Elite.
    mttr: { value: round2(mttrMean), unit: 'hours', grade: t.restores === 0 ? 'Elite' : below(shown(mttrMean), bands.lead_time) },
  };
}

export function doraGrades(src: EventSource, o: MetricOptions = {}): DoraGrades {
  const r = resolve(src, o, 7);
  const w = { streams: r.streams, since: r.now - r.period * DAY, upTo: r.now };
  const t = tallyKept(src, w) ?? tallyEvents(src.events({ ...w, types: DORA_TYPES, fields: DORA_FIELDS }));
  return gradeTally(t, r.period, r.config.bands, o.gradeUnrounded);
}

export interface DoraTrend {
  weeks: { week: string; grades: DoraGrades }[];
}

export function doraTrend(src: EventSource, o: MetricOptions = {}): DoraTrend {
  const r = resolve(src, o, 30);
  const weeks = Math.ceil(r.period / 7);
  const ends = Array.from({ length: weeks }, (_, i) => r.now - (weeks - 1 - i) * 7 * DAY);
  const tallies: DoraTally[] = [];
  for (const end of ends) {
    const t = tallyKept(src, { streams: r.streams, since: end - 7 * DAY, until: end });
    if (!t) break;
    tallies.push(t);
  }
  if (tallies.length < ends.length) {
    // One read of every week's events, not one per week: the scan reads the files for each.
    const events = src.events({ streams: r.streams, types: DORA_TYPES, since: ends[0]! - 7 * DAY, until: r.now, fields: DORA_FIELDS });
    tallies.splice(0, tallies.length, ...ends.map((end) => tallyEvents(events.filter((e) => e.ts_epoch >= end - 7 * DAY && e.ts_epoch < end))));
  }
  return { weeks: ends.map((end, i) => ({ week: dayKey(end), grades: gradeTally(tallies[i]!, 7, r.config.bands, o.gradeUnrounded) })) };
}
