import type { NormalEvent } from '../ingest/normalize.js';
import type { EventSource } from '../read/source.js';
import { DEFAULT_CONFIG, type MetricsConfig } from './config.js';

export const DAY = 86_400;

/** Half up; the 1e-6 absorbs floating-point noise so any summation order rounds alike. */
export const round2 = (x: number): number => Math.round(x * 100 + 1e-6) / 100;
export const percent = (part: number, whole: number): number => Math.round((part / whole) * 10_000) / 100;
export const mean = (sum: number, n: number): number => (n === 0 ? 0 : sum / n);

export { dateOf } from '../read/source.js';

export interface MetricOptions {
  /** Epoch seconds (default: now). */
  now?: number;
  /** Days (each helper has its own default). */
  period?: number;
  /** Streams to read (default ['events']). */
  streams?: string[];
  config?: MetricsConfig;
}

export interface Resolved {
  src: EventSource;
  now: number;
  period: number;
  streams: string[];
  config: MetricsConfig;
}

export function resolve(src: EventSource, o: MetricOptions, defaultPeriod: number): Resolved {
  return {
    src,
    now: o.now ?? Math.floor(Date.now() / 1000),
    period: o.period ?? defaultPeriod,
    streams: o.streams ?? ['events'],
    config: o.config ?? DEFAULT_CONFIG,
  };
}

/** The UTC dates of the `days` days ending at `now`'s day, ascending. */
export function daysEnding(now: number, days: number): string[] {
  const out: string[] = [];
  const today = Math.floor(now / DAY) * DAY;
  for (let i = days - 1; i >= 0; i--) out.push(new Date((today - i * DAY) * 1000).toISOString().slice(0, 10));
  return out;
}

/** Epoch of the first second of the first of those days. */
export function startOfDays(now: number, days: number): number {
  return Math.floor(now / DAY) * DAY - (days - 1) * DAY;
}

export const isSuccess = (e: NormalEvent): boolean => e.result === 'success';
export const hasIssue = (e: NormalEvent): e is NormalEvent & { issue: number } => e.issue !== null && e.issue !== 0;

/** A map with its keys in ascending order, so either backend prints it identically. */
export function sortedRecord<V>(m: Map<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}
