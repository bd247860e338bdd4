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
/**
 * The longest window a helper takes, in days: a century. A trend has an entry
 * per day (or week) of its window, so a longer one only makes the answer
 * huge; every log fits inside it.
 */
export const MAX_PERIOD_DAYS = 36_500;
/** The UTC day number of an epoch (days since 1970-01-01). */
export const dayNumber = (epoch: number): number => Math.floor(epoch / DAY_SECONDS);
/** The days a Date can name, 100,000,000 each side of 1970-01-01: an epoch outside them has no date. */
export const DATED_DAYS = [-100_000_000, 100_000_000] as const;
/** The epochs a Date can hold, both included: from the first second of the first of those days to the first of the last. */
export const DATED_EPOCHS = [DATED_DAYS[0] * DAY_SECONDS, DATED_DAYS[1] * DAY_SECONDS] as const;
/**
 * The day the rollups file an epoch under: its day number, each day past
 * the ones a Date can name kept as the one just past them, so that a day is
 * a number every engine holds (the day of 1e300 fits no 64-bit integer).
 * Windows read those two days from the rows (store/day-plan.ts).
 */
export const ROLLUP_DAYS = [DATED_DAYS[0] - 1, DATED_DAYS[1] + 1] as const;
export const rollupDay = (epoch: number): number => Math.min(ROLLUP_DAYS[1], Math.max(ROLLUP_DAYS[0], dayNumber(epoch)));
/** The epochs rollup day `day` files, [since, until): one of the two days past the dated ones holds every epoch beyond them on its side. */
export function rollupDayEpochs(day: number): [number, number] {
  if (day <= ROLLUP_DAYS[0]) return [-Infinity, DATED_EPOCHS[0]];
  if (day >= ROLLUP_DAYS[1]) return [ROLLUP_DAYS[1] * DAY_SECONDS, Infinity];
  return [day * DAY_SECONDS, (day + 1) * DAY_SECONDS];
}
/** The UTC day of an epoch as YYYY-MM-DD: the key of every per-day metric (an epoch with no date: its rollup day's `day n`). */
export const dayKey = (epoch: number): string => dayKeyOf(rollupDay(epoch));

/**
 * Whether an event has a date (docs/metrics.md): an epoch of 0 is no usable
 * time, and one outside DATED_EPOCHS (a microsecond count written as
 * seconds, say) is no time a date can name, so date-keyed helpers skip both.
 */
export const hasDate = (epoch: number): boolean => epoch !== 0 && epoch >= DATED_EPOCHS[0] && epoch <= DATED_EPOCHS[1];

const dayKeys = new Map<number, string>();
/**
 * The UTC day of day number `n` as YYYY-MM-DD (a year past 9999 or before 0
 * with its sign and six digits, as a Date writes it), or `day n` for a day
 * no Date can name. Remembered: a per-day answer names the same few hundred
 * days on every call, and formatting a Date is most of what a heatmap cell
 * costs (issue #24). Bounded, as `n` is data.
 */
export function dayKeyOf(n: number): string {
  let key = dayKeys.get(n);
  if (key === undefined) {
    if (n >= DATED_DAYS[0] && n <= DATED_DAYS[1]) {
      const iso = new Date(n * DAY_SECONDS * 1000).toISOString();
      key = iso.slice(0, iso.indexOf('T'));
    } else {
      key = `day ${n}`;
    }
    if (dayKeys.size >= 100_000) dayKeys.clear();
    dayKeys.set(n, key);
  }
  return key;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
/** Day numbers of years 0000 to 9999, which a Date writes with four digits. */
const FOUR_DIGIT_YEARS = [-719_528, 2_932_896] as const;

/**
 * The ISO-8601 UTC second of an epoch, `YYYY-MM-DDTHH:MM:SSZ` (what the
 * timeline shows for an event without a string `ts`), or null past a Date's
 * range. From the day's key for a whole second: the ingest asks it of every event.
 */
export function isoSecond(epoch: number): string | null {
  const day = dayNumber(epoch);
  if (Number.isInteger(epoch) && day >= FOUR_DIGIT_YEARS[0] && day <= FOUR_DIGIT_YEARS[1]) {
    const s = epoch - day * DAY_SECONDS;
    return `${dayKeyOf(day)}T${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}Z`;
  }
  const date = new Date(epoch * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A string cut inside an emoji (`JSON.stringify` writes its half as
 * `"\ud83d"`) holds a lone surrogate, which no UTF-8 store keeps: SQLite
 * turns it into U+FFFD, PostgreSQL refuses it. Such a value is kept as its
 * JSON escape, the six characters `\ud83d`, by every backend alike; the
 * line itself is stored as written.
 */
export function wellFormed(v: string): string {
  return v.isWellFormed() ? v : v.replace(LONE_SURROGATE, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * Marks a ts_text that holds the JSON text of the `ts` rather than the `ts`
 * itself. U+FFFF is a noncharacter: no timestamp starts with it.
 */
const JSON_TS = '\uffff';

/**
 * NormalEvent.ts_text of a line whose `ts` is `ts` and whose epoch is `epoch`.
 * The timeline shows it as written, so unlike the other columns it must
 * come back exact: a `ts` that no store keeps as it is (a lone surrogate, a
 * NUL, which PostgreSQL's text refuses) is kept as its JSON text behind
 * JSON_TS, and `shownTs` turns it back.
 */
export function writtenTs(ts: unknown, epoch: number): string | null {
  if (typeof ts !== 'string' || ts === isoSecond(epoch)) return null;
  return ts.isWellFormed() && !ts.includes('\0') && !ts.startsWith(JSON_TS) ? ts : `${JSON_TS}${JSON.stringify(ts)}`;
}

/**
 * The `ts` a ts_text holds (writtenTs). A text behind JSON_TS that is no JSON
 * string is shown as it is: a writer older than sql/012 may still be
 * running, and it kept such a `ts` raw.
 */
export function shownTs(text: string): string {
  if (!text.startsWith(JSON_TS)) return text;
  try {
    const ts: unknown = JSON.parse(text.slice(JSON_TS.length));
    return typeof ts === 'string' ? ts : text;
  } catch {
    return text;
  }
}

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
