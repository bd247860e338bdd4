import type { GroupKey, GroupQuery } from '../model/query.js';
import { DATED_DAYS, DATED_EPOCHS, DAY_SECONDS } from '../model/rules.js';

/** A window's time bounds, as the read queries state them (model/query.ts). */
export interface Window {
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** ts_epoch <= upTo */
  upTo?: number;
  /** Leave out events with no date: epoch 0, or outside the days a Date can name (model/rules.ts hasDate). */
  timed?: boolean;
}

/** The rows of a `timed` window, as both engines' SQL states hasDate. */
export const DATED_SQL = ['ts_epoch != 0', `ts_epoch >= ${DATED_EPOCHS[0]}`, `ts_epoch <= ${DATED_EPOCHS[1]}`] as const;

/**
 * How a count or sum over a window splits (docs/design.md#invariant-12): the
 * whole UTC days inside it from a rollup, the partial days at its edges
 * from the rows, so that the answer is the same as counting every row and
 * its cost follows the days of the window, not the events in them.
 */
export interface DayPlan {
  /** The first whole day (day numbers, inclusive); absent: from the first day there is. A `timed` window starts at the first dated day at the earliest. */
  from?: number;
  /** The last whole day; absent: to the last day there is. */
  to?: number;
  /**
   * Day 0 is read from the rows: a `timed` window leaves out the events of
   * epoch 0, which its cell counts with the rest of 1970-01-01.
   */
  skipDayZero: boolean;
  /** The rest of the window, each part with the window's own filters. */
  rows: Window[];
  /**
   * The rows of the day the window ends in that lie after its end (ts_epoch
   * > after, >= when `inclusive`, and < before), when that day could be
   * read whole: the window holds the day's start and ends inside it. The
   * day's cell counts those rows with the rest, so when there are none (of
   * the read's streams and types, dated or not) the cell is exactly the
   * window's part of the day, and a store may read it instead of `part`,
   * the element of `rows` that reads that day: a window ending at `now` then
   * takes no rows from `now`'s day unless some are stamped later. The store
   * decides in the statement that reads, so the choice and the answer see
   * one state of the mirror.
   */
  tail?: { after: number; inclusive: boolean; before: number; part: Window };
}

/** The plan for window `w`, or undefined when it holds no whole day (the rows answer alone). */
export function dayPlan(window: Window): DayPlan | undefined {
  const w = window.timed ? datedPart(window) : window;
  // A bounded window's whole days are days a Date can name: the rollups keep every other day of its side as one (rollupDay).
  const from = w.since === undefined ? undefined : Math.max(Math.ceil(w.since / DAY_SECONDS), DATED_DAYS[0]);
  // Day d is whole when every epoch in it, all below (d + 1) * DAY_SECONDS, is inside both upper bounds.
  const ends = [w.until, w.upTo].filter((v) => v !== undefined).map((v) => Math.floor(v / DAY_SECONDS) - 1);
  const to = ends.length > 0 ? Math.min(...ends, DATED_DAYS[1]) : undefined;
  if (from !== undefined && to !== undefined && from > to) return undefined;
  // A window that ends before the first of those days or starts after the last holds part of a kept-as-one day at most.
  if ((to !== undefined && to < DATED_DAYS[0]) || (from !== undefined && from > DATED_DAYS[1])) return undefined;
  const rows: Window[] = [];
  let tail: DayPlan['tail'];
  if (from !== undefined && w.since! < from * DAY_SECONDS) rows.push({ ...w, until: from * DAY_SECONDS });
  if (to !== undefined) {
    const after = (to + 1) * DAY_SECONDS;
    const empty = (w.until !== undefined && w.until <= after) || (w.upTo !== undefined && w.upTo < after);
    if (!empty) {
      const part = { ...w, since: after };
      rows.push(part);
      // Only days every engine files under their own number, and not day 0, which a timed window reads from the rows.
      if (to + 1 > 0 && to + 1 < DATED_DAYS[1]) {
        // After the window's end: ts >= until or ts > upTo, whichever bound comes first.
        const inclusive = w.until !== undefined && (w.upTo === undefined || w.until <= w.upTo);
        tail = { after: inclusive ? w.until! : w.upTo!, inclusive, before: after + DAY_SECONDS, part };
      }
    }
  }
  const skipDayZero = Boolean(w.timed) && (from === undefined || from <= 0) && (to === undefined || to >= 0);
  if (skipDayZero) rows.push({ ...w, since: 0, until: DAY_SECONDS });
  return { from, to, skipDayZero, rows, tail };
}

/** The day a plan's window ends in, as a plan of that one whole day, when its cell may answer for it (the plan's `tail`). */
export function endDayPlan<P extends DayPlan>(plan: P): P | undefined {
  return plan.tail && { ...plan, from: plan.to! + 1, to: plan.to! + 1, skipDayZero: false, rows: [] };
}

/** A timed window within the dated epochs, so that its whole days leave out the rollups' cells of days no Date can name. */
function datedPart(w: Window): Window {
  return { ...w, since: Math.max(w.since ?? -Infinity, DATED_EPOCHS[0]), upTo: Math.min(w.upTo ?? Infinity, DATED_EPOCHS[1]) };
}

/** The group keys day_totals keeps, and those issue_costs keeps (for a cost). */
const DAY_KEYS: ReadonlySet<GroupKey> = new Set(['stage', 'model', 'date', 'success']);
const ISSUE_KEYS: ReadonlySet<GroupKey> = new Set(['issue', 'model', 'date']);

/** Which rollup answers a grouped read's whole days, and how. */
export interface GroupPlan extends DayPlan {
  table: 'day_totals' | 'issue_costs';
  /**
   * A count or duration sum over a window with no start reads all_totals
   * (day_totals' counts and duration sums with the day left out) and takes
   * away the cells of the days after its end, so its cost follows those
   * days, not every day of the log. Not for stats (a least or greatest
   * value cannot be taken away) nor for a cost (priced per cell by model).
   * A sum is read so only while every cell of its streams and types is
   * exact (sql/010), and from the days' sums otherwise (`exactSums`).
   */
  allTime: boolean;
  /**
   * An all-time sum: the store's read states both ways to read its whole
   * days, each under the test of whether all_totals' sums are exact, so the
   * test and the sum it chooses see one state of the mirror.
   */
  exactSums: boolean;
}

/**
 * The events of a cost's whole days that the rollups leave to their rows
 * (sql/007): a negative token count and no positive cost_usd. One rule for
 * both engines' SQL; `terms` name the partial index's own condition first,
 * so the planner can use that index.
 */
export function oddCostRows(plan: DayPlan): { since?: number; until?: number; terms: string[] } {
  return {
    since: plan.from === undefined ? undefined : plan.from * DAY_SECONDS,
    until: plan.to === undefined ? undefined : (plan.to + 1) * DAY_SECONDS,
    terms: ['(input_tokens < 0 OR output_tokens < 0)', 'COALESCE(cost_usd, 0) <= 0', ...(plan.skipDayZero ? [`(ts_epoch < 0 OR ts_epoch >= ${DAY_SECONDS})`] : [])],
  };
}

/** The rollups price token sums: a negative price would take a cost away where the rows skip the event. */
const pricedBySums = (q: GroupQuery): boolean =>
  Object.values(q.prices?.prices ?? {}).every((p) => p.input >= 0 && p.output >= 0);

/** The plan for a grouped read, when a rollup can answer it: both engines ask this one rule. */
export function groupPlan(q: GroupQuery): GroupPlan | undefined {
  // A cost's groups hold only its events of cost > 0, which no cell's stats can tell apart.
  if (q.sum === 'cost' && (q.stats || !pricedBySums(q))) return undefined;
  const plan = dayPlan(q);
  if (!plan) return undefined;
  if (q.by.every((k) => DAY_KEYS.has(k))) {
    const allTime = q.since === undefined && q.sum !== 'cost' && !q.stats && !q.by.includes('date');
    return { ...plan, table: 'day_totals', allTime, exactSums: allTime && q.sum !== undefined };
  }
  if (q.sum === 'cost' && q.by.every((k) => ISSUE_KEYS.has(k))) return { ...plan, table: 'issue_costs', allTime: false, exactSums: false };
  return undefined;
}
