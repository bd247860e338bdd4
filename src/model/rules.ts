import type { NormalEvent } from './event.js';

/**
 * The few definitions every layer shares (docs/metrics.md): what counts as a
 * success, which UTC day an event falls on, how a type filter matches, which
 * events the all-time stage totals keep. The store builds its SQL from these
 * constants, the scan and the metrics call the functions.
 */

/** The result of a successful pipeline or stage. */
export const SUCCESS = 'success';
export const isSuccess = (e: Pick<NormalEvent, 'result'>): boolean => e.result === SUCCESS;

export const DAY_SECONDS = 86_400;
/** The UTC day number of an epoch (days since 1970-01-01). */
export const dayNumber = (epoch: number): number => Math.floor(epoch / DAY_SECONDS);
const dayKeys = new Map<number, string>();
/**
 * The UTC day of day number `n` as YYYY-MM-DD. Remembered: a per-day answer
 * names the same few hundred days on every call, and formatting a Date is
 * most of what a heatmap cell costs (issue #24). Bounded, as `n` is data.
 */
export function dayKeyOf(n: number): string {
  let key = dayKeys.get(n);
  if (key === undefined) {
    key = new Date(n * DAY_SECONDS * 1000).toISOString().slice(0, 10);
    if (dayKeys.size >= 100_000) dayKeys.clear();
    dayKeys.set(n, key);
  }
  return key;
}
/** The UTC day of an epoch as YYYY-MM-DD: the key of every per-day metric. */
export const dayKey = (epoch: number): string => dayKeyOf(dayNumber(epoch));

/**
 * A type filter `want` matches the type itself or any `want.*`. As a range
 * over sorted text: [want, want + '/') holds exactly want and want.* among
 * dotted names, because '/' sorts right after '.'.
 */
export function typeMatches(type: string | null, want: string | undefined): boolean {
  return want === undefined || type === want || (type !== null && type.startsWith(`${want}.`));
}
export const TYPE_PREFIX_END = '/';

export const STAGE_COMPLETED = 'stage.completed';

/** The two events DORA's lead time and time to restore pair per issue (docs/metrics.md helper 4). */
export const PIPELINE_STARTED = 'pipeline.started';
export const PIPELINE_COMPLETED = 'pipeline.completed';
