import { MirrorError } from '../errors.js';
import type { NormalEvent } from '../model/event.js';
import type { EventSource } from '../read/source.js';
import { DEFAULT_CONFIG, type MetricsConfig } from './config.js';
import { DATED_EPOCHS, DAY_SECONDS as DAY, dayKey, MAX_PERIOD_DAYS } from '../model/rules.js';

export { DAY_SECONDS as DAY, dayKey, isSuccess, MAX_PERIOD_DAYS } from '../model/rules.js';

/** Half up; the 1e-6 absorbs floating-point noise so any summation order rounds alike. */
export const round2 = (x: number): number => Math.round(x * 100 + 1e-6) / 100;
/** A whole number, half up, with round2's 1e-6: a mean on a half rounds the same whatever order its sum was added in. */
export const round0 = (x: number): number => Math.round(x + 1e-6);
export const percent = (part: number, whole: number): number => Math.round((part / whole) * 10_000) / 100;
export const mean = (sum: number, n: number): number => (n === 0 ? 0 : sum / n);

export interface MetricOptions {
  /** Epoch seconds (default: now). */
  now?: number;
  /** Days (each helper has its own default). */
  period?: number;
  /** Streams to read (default ['events']). */
  streams?: string[];
  config?: MetricsConfig;
  /**
   * DORA: compare the unrounded values with the bands (a deviation from
   * docs/metrics.md, which grades the value as shown, after rounding).
   */
  gradeUnrounded?: boolean;
}

export interface Resolved {
  src: EventSource;
  now: number;
  period: number;
  streams: string[];
  config: MetricsConfig;
}

/** `now` in epoch seconds, the current time by default; anything but a number of a time a date can name is refused. */
export function resolveNow(now: number | undefined): number {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  if (typeof now !== 'number' || !(now >= DATED_EPOCHS[0] && now <= DATED_EPOCHS[1])) {
    throw new MirrorError('INVALID_ARGUMENT',
      `now must be epoch seconds from ${DATED_EPOCHS[0]} to ${DATED_EPOCHS[1]} (the times a date can name), got ${JSON.stringify(now) ?? String(now)}`);
  }
  return now;
}

/** A whole number from 1 to max (a period in days, a range in hours), never NaN or 0 downstream. */
export function positiveInteger(name: string, v: number | undefined, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new MirrorError('INVALID_ARGUMENT', `${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

export function resolve(src: EventSource, o: MetricOptions, defaultPeriod: number): Resolved {
  return {
    src,
    now: resolveNow(o.now),
    period: positiveInteger('period (days)', o.period, defaultPeriod, MAX_PERIOD_DAYS),
    streams: o.streams ?? ['events'],
    config: o.config ?? DEFAULT_CONFIG,
  };
}

/** The UTC dates of the `days` days ending at `now`'s day, ascending. */
export function daysEnding(now: number, days: number): string[] {
  const out: string[] = [];
  const today = Math.floor(now / DAY) * DAY;
  for (let i = days - 1; i >= 0; i--) out.push(dayKey(today - i * DAY));
  return out;
}

/** Epoch of the first second of the first of those days. */
export function startOfDays(now: number, days: number): number {
  return Math.floor(now / DAY) * DAY - (days - 1) * DAY;
}

export const hasIssue = (e: NormalEvent): e is NormalEvent & { issue: number } => e.issue !== null && e.issue !== 0;

/** A map with its keys in ascending order, so either backend prints it identically. */
export function sortedRecord<V>(m: Map<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}
