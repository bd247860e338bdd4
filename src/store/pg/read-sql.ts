import { TOKENS_PER_PRICE, type PriceTable } from '../../model/cost.js';
import type { EventQuery, FeedQuery, GroupKey, GroupQuery, PairQuery, RecordQuery } from '../../model/query.js';
import { PIPELINE_COMPLETED, PIPELINE_STARTED, TYPE_PREFIX_END } from '../../model/rules.js';
import { DATED_SQL, dayPlan, endDayPlan, groupPlan, oddCostRows, type DayPlan, type GroupPlan } from '../day-plan.js';
import { PG_DAY_OF, PG_OK_OF } from './statements.js';
import type { ExportQuery, HostScope } from '../api.js';

/**
 * The read side's SQL for PostgreSQL, shape for shape as ../read-sql.ts
 * builds it for SQLite, plus an optional host: all hosts when it is absent.
 * Values are always bound ($n), never spliced in. Log order across hosts is
 * (ts_epoch, stream, host, position in the host's log); for one host it is
 * SQLite's order.
 */

/** Collects bound values and hands out their $n. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown, cast = ''): string {
    this.values.push(v);
    return `$${this.values.length}${cast}`;
  }
  list(vs: unknown[]): string {
    return vs.map((v) => this.add(v)).join(', ');
  }
}

const LOG_ORDER = 'ts_epoch, stream, host, rank, "offset"';
const LOG_ORDER_DESC = 'ts_epoch DESC, stream DESC, host DESC, rank DESC, "offset" DESC';
const NORMAL_COLUMNS = 'type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens';

function timeBounds(parts: string[], p: Params, since?: number, until?: number, upTo?: number): void {
  if (since !== undefined) parts.push(`ts_epoch >= ${p.add(since, '::float8')}`);
  if (until !== undefined) parts.push(`ts_epoch < ${p.add(until, '::float8')}`);
  if (upTo !== undefined) parts.push(`ts_epoch <= ${p.add(upTo, '::float8')}`);
}

function hostBound(parts: string[], p: Params, host: string | undefined): void {
  if (host !== undefined) parts.push(`host = ${p.add(host)}`);
}

function where(q: EventQuery & HostScope, p: Params, extra: string[] = []): string {
  const parts = [`stream IN (${p.list(q.streams)})`, `type IN (${p.list(q.types)})`, ...extra];
  hostBound(parts, p, q.host);
  timeBounds(parts, p, q.since, q.until, q.upTo);
  if (q.timed) parts.push(...DATED_SQL);
  return parts.join(' AND ');
}

export interface Sql {
  sql: string;
  params: unknown[];
}

/** The columns of `fields`; ts_text as SQLite's read-sql.ts columnsOf reads it, with the line of a row from before sql/pg/009. */
function columnsOf(fields: readonly string[], tsTextFrom: number): string {
  return fields.map((f) => (f === 'ts_text' && tsTextFrom > 1 ? `ts_text, CASE WHEN id < ${tsTextFrom} THEN line END AS old_line, ts_epoch AS old_epoch` : f)).join(', ');
}

export function pgEventsSql(q: EventQuery & HostScope, tsTextFrom = 1): Sql {
  const p = new Params();
  const w = where(q, p);
  const columns = q.fields ? columnsOf(q.fields, tsTextFrom) : NORMAL_COLUMNS;
  return { sql: `SELECT ${columns} FROM events WHERE ${w} ORDER BY ${LOG_ORDER}`, params: p.values };
}

const GROUP_EXPR: Record<GroupKey, string> = {
  stage: 'stage',
  model: 'model',
  issue: 'issue',
  // The UTC day number, as SQLite's; read/mirror-source.ts turns it into YYYY-MM-DD.
  date: PG_DAY_OF,
  success: PG_OK_OF,
};

/**
 * costOf() from model/cost.ts as SQL, term for term as the SQLite text, so
 * each event's cost is the same double; over a rollup's cells (`cells`) the
 * prices apply to a cell's token sums, added to its positive cost_usd.
 */
function costSql(config: PriceTable, p: Params, cells = false): string {
  const models = Object.keys(config.prices);
  const fallback = config.prices[config.fallbackModel]!;
  const price = (side: 'input' | 'output') =>
    `CASE lower(COALESCE(model, '')) ${models.map((m) => `WHEN ${p.add(m, '::text')} THEN ${p.add(config.prices[m]![side], '::float8')}`).join(' ')} ELSE ${p.add(fallback[side], '::float8')} END`;
  const pin = price('input');
  const pout = price('output');
  const per = `${TOKENS_PER_PRICE.toExponential()}::float8`;
  const [tin, tout] = cells ? ['tok_in', 'tok_out'] : ['COALESCE(input_tokens, 0)', 'COALESCE(output_tokens, 0)'];
  const priced = `(${tin} / ${per}) * (${pin}) + (${tout} / ${per}) * (${pout})`;
  return cells ? `usd_sum + ${priced}` : `CASE WHEN cost_usd > 0 THEN cost_usd ELSE ${priced} END`;
}

/** Each group key as the rollups hold it (sql/pg/003-006): day_totals and all_totals, and issue_costs. */
const CELL_EXPR: Record<'day_totals' | 'issue_costs', Partial<Record<GroupKey, string>>> = {
  day_totals: {
    stage: 'CASE WHEN nulls & 1 = 1 THEN NULL ELSE stage END',
    model: 'CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END',
    date: 'day',
    success: 'ok',
  },
  issue_costs: {
    issue: 'CASE WHEN nulls & 1 = 1 THEN NULL ELSE issue END',
    model: 'CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END',
    date: 'day',
  },
};

/**
 * As SQLite's: a rollup's cells over a plan's whole days (`inside`), all of
 * them, or those an all-time count takes away (`before` its first whole day,
 * `after` its last, day 0 as `zero`); `types` as an IN list, or a type family for the feed.
 * Undefined when there are none.
 */
function dayCells(
  plan: DayPlan, p: Params, streams: string[], host: string | undefined, types: { in: string[] } | { under: string } | undefined,
  days: 'inside' | 'all' | 'before' | 'after' | 'zero' = 'inside',
): string | undefined {
  if ((days === 'before' && plan.from === undefined) || (days === 'after' && plan.to === undefined) || (days === 'zero' && !plan.skipDayZero)) return undefined;
  const parts = [`stream IN (${p.list(streams)})`];
  if (types && 'in' in types) parts.push(`type IN (${p.list(types.in)})`, 'nulls & 4 = 0');
  if (types && 'under' in types) parts.push(`(type = ${p.add(types.under, '::text')} OR starts_with(type, ${p.add(`${types.under}.`, '::text')}))`, 'nulls & 4 = 0');
  if (days === 'before') parts.push(`day < ${p.add(plan.from, '::bigint')}`);
  if (days === 'after') parts.push(`day > ${p.add(plan.to, '::bigint')}`);
  if (days === 'zero') parts.push('day = 0');
  if (days === 'inside') {
    if (plan.from !== undefined) parts.push(`day >= ${p.add(plan.from, '::bigint')}`);
    if (plan.to !== undefined) parts.push(`day <= ${p.add(plan.to, '::bigint')}`);
    if (plan.skipDayZero) parts.push('day != 0');
  }
  hostBound(parts, p, host);
  return parts.join(' AND ');
}

/** The `stats` of a group over rows: least and greatest duration (absent as 0), positive cost_usd summed. */
const ROW_STATS = ', MIN(COALESCE(duration_s, 0)), MAX(COALESCE(duration_s, 0)), COALESCE(SUM(cost_usd) FILTER (WHERE cost_usd > 0), 0)';

/** As SQLite's rowGroups: k0…, n, s (and the stats); a cost summed where > 0 and not counted. */
function rowGroups(q: GroupQuery & HostScope, p: Params, extra: string[] = []): string {
  const keys = q.by.map((k, i) => `${GROUP_EXPR[k]} AS k${i}`).join(', ');
  const groupBy = q.by.map((_, i) => `k${i}`).join(', ');
  const stats = q.stats ? ROW_STATS : '';
  if (q.sum === 'cost') {
    const cost = costSql(q.prices!, p);
    return `SELECT ${groupBy}, 0::bigint AS n, COALESCE(SUM(v), 0) AS s${stats}
      FROM (SELECT ${keys}, ${cost} AS v, duration_s, cost_usd FROM events WHERE ${where(q, p, extra)}) t WHERE v > 0 GROUP BY ${groupBy}`;
  }
  const sum = q.sum ? `COALESCE(SUM(${q.sum}), 0)` : '0::float8';
  return `SELECT ${keys}, COUNT(*) AS n, ${sum} AS s${stats} FROM events WHERE ${where(q, p, extra)} GROUP BY ${groupBy}`;
}

/** As SQLite's laterInEndDay: whether a row of the read lies after the window's end in the day it ends in (an InitPlan, run once). */
function laterInEndDay(q: GroupQuery & HostScope, p: Params, tail: NonNullable<DayPlan['tail']>): string {
  const parts = [`stream IN (${p.list(q.streams)})`, `type IN (${p.list(q.types)})`];
  hostBound(parts, p, q.host);
  parts.push(`ts_epoch ${tail.inclusive ? '>=' : '>'} ${p.add(tail.after, '::float8')}`, `ts_epoch < ${p.add(tail.before, '::float8')}`);
  return `EXISTS (SELECT 1 FROM events WHERE ${parts.join(' AND ')})`;
}

/**
 * As SQLite's rollupSql: whole days from a rollup (all_totals less the days
 * after, for an all-time count or sum), partial days and a cost's odd rows
 * from the rows, and the day the window ends in from its cell or its rows,
 * decided inside the statement (a one-time filter on each side's pieces).
 */
function rollupSql(q: GroupQuery & HostScope, plan: GroupPlan): Sql {
  const p = new Params();
  const expr = CELL_EXPR[plan.table];
  const keys = q.by.map((k, i) => `${expr[k]!} AS k${i}`).join(', ');
  const groupBy = q.by.map((_, i) => `k${i}`).join(', ');
  const cost = q.sum === 'cost' ? costSql(q.prices!, p, true) : undefined;
  const s = cost ?? (q.sum ? 'duration_sum' : '0::float8');
  const types = { in: q.types };
  const pieces: string[] = [];
  const tail = plan.tail;
  const later = () => laterInEndDay(q, p, tail!);
  const endDay = endDayPlan(plan);
  const cellsOf = (cells: string) => `SELECT ${keys}, ${cost ? '0::bigint' : 'n'} AS n, ${s} AS s${q.stats ? ', dur_min, dur_max, usd_sum' : ''}
      FROM ${plan.table} WHERE ${cells}`;
  // An all-time sum holds both ways to read its whole days, each under the test of which one answers.
  const inexact = () => `EXISTS (SELECT 1 FROM all_totals WHERE ${dayCells(plan, p, q.streams, q.host, types, 'all')!} AND inexact)`;
  const exact = (cells: string) => (plan.exactSums ? `${cells} AND NOT ${inexact()}` : cells);
  if (plan.allTime) {
    pieces.push(`SELECT ${keys}, n, ${s} AS s FROM all_totals WHERE ${exact(dayCells(plan, p, q.streams, q.host, types, 'all')!)}`);
    for (const days of ['before', 'after', 'zero'] as const) {
      const out = dayCells(days === 'after' && endDay ? endDay : plan, p, q.streams, q.host, types, days);
      if (out) pieces.push(`SELECT ${keys}, -n, -${s} FROM day_totals WHERE ${exact(out)}`);
    }
    if (endDay) pieces.push(`SELECT ${keys}, -n, -${s} FROM day_totals WHERE ${exact(`${dayCells(endDay, p, q.streams, q.host, types)!} AND ${later()}`)}`);
  }
  if (!plan.allTime || plan.exactSums) {
    const inexactOnly = (cells: string) => (plan.exactSums ? `${cells} AND ${inexact()}` : cells);
    pieces.push(cellsOf(inexactOnly(dayCells(plan, p, q.streams, q.host, types)!)));
    if (endDay) pieces.push(cellsOf(inexactOnly(`${dayCells(endDay, p, q.streams, q.host, types)!} AND NOT ${later()}`)));
  }
  for (const part of plan.rows) {
    if (part !== tail?.part) {
      pieces.push(rowGroups({ ...q, ...part }, p));
      continue;
    }
    // The day's rows are sought from past the day when its cell answers: none are read.
    const from = `ts_epoch >= CASE WHEN ${later()} THEN ${p.add(part.since, '::float8')} ELSE ${p.add(tail.before, '::float8')} END`;
    pieces.push(rowGroups({ ...q, ...part, since: undefined }, p, [from]));
  }
  if (cost) {
    const odd = (dp: DayPlan, extra: string[] = []) => {
      const { terms, ...bounds } = oddCostRows(dp);
      return rowGroups({ ...q, ...bounds }, p, [...terms, ...extra]);
    };
    pieces.push(odd(plan));
    if (endDay) pieces.push(odd(endDay, [`NOT ${later()}`]));
  }
  const stats = q.stats ? ', MIN(dur_min), MAX(dur_max), COALESCE(SUM(usd_sum), 0)' : '';
  return {
    sql: `SELECT ${groupBy}, SUM(n)::bigint AS n, COALESCE(SUM(s), 0) AS s${stats} FROM (${pieces.join(' UNION ALL ')}) t GROUP BY ${groupBy}
      HAVING ${cost ? 'COALESCE(SUM(s), 0) > 0' : 'SUM(n) > 0'}`,
    params: p.values,
  };
}

/** Grouped counts and sums, as SQLite's groupsSql (../read-sql.ts). */
export function pgGroupsSql(q: GroupQuery & HostScope): Sql {
  const plan = groupPlan(q);
  if (plan) return rollupSql(q, plan);
  const p = new Params();
  return { sql: rowGroups(q, p), params: p.values };
}

/**
 * DORA's pair samples of a window (sql/pg/007), as ../read-sql.ts
 * pairTotalsSql: how many (host, stream) of the scope hold pipeline events
 * (pairs are kept per host and stream), how many of its hosts still have
 * theirs to fill, then the leads, their seconds, the restores and theirs.
 */
export function pgPairTotalsSql(q: PairQuery & HostScope): Sql {
  const p = new Params();
  const held = [`stream IN (${p.list(q.streams)})`, `type IN (${p.list([PIPELINE_STARTED, PIPELINE_COMPLETED])})`, 'n > 0'];
  hostBound(held, p, q.host);
  const pending = ["key = 'pairs_pending'"];
  hostBound(pending, p, q.host);
  const since = p.add(q.since, '::float8');
  const seconds = (from: string) =>
    `COUNT(*) FILTER (WHERE ${from} >= ${since}), COALESCE(SUM(ts_epoch - ${from}) FILTER (WHERE ${from} >= ${since}), 0)`;
  const inside = [`stream IN (${p.list(q.streams)})`];
  hostBound(inside, p, q.host);
  timeBounds(inside, p, q.since, q.until, q.upTo);
  return {
    sql: `SELECT (SELECT COUNT(*) FROM (SELECT DISTINCT host, stream FROM all_totals WHERE ${held.join(' AND ')}) s),
      (SELECT COUNT(*) FROM meta WHERE ${pending.join(' AND ')}), ${seconds('lead_from')}, ${seconds('fail_from')}
      FROM dora_pairs WHERE ${inside.join(' AND ')}`,
    params: p.values,
  };
}

/**
 * `forCount` states the type filter as one range (t itself or t.*: '/'
 * sorts right after '.' in the "C" collation), so COUNT walks just that
 * part of the type index; the page query states it plainly, so the planner
 * walks the log-order index newest first and stops at LIMIT.
 */
function feedWhere(q: FeedQuery & HostScope, p: Params, forCount: boolean): string {
  const parts = [`stream IN (${p.list(q.streams)})`];
  hostBound(parts, p, q.host);
  if (q.type !== undefined && forCount) {
    const t = p.add(q.type, '::text');
    parts.push(`type >= ${t} AND type < ${p.add(`${q.type}${TYPE_PREFIX_END}`, '::text')} AND (type = ${t} OR type >= ${p.add(`${q.type}.`, '::text')})`);
  } else if (q.type !== undefined) {
    parts.push(`(type = ${p.add(q.type)} OR starts_with(type, ${p.add(`${q.type}.`)}))`);
  }
  if (q.issue !== undefined) parts.push(`issue = ${p.add(q.issue, '::float8')}`);
  timeBounds(parts, p, undefined, undefined, q.upTo);
  return parts.join(' AND ');
}

/** The feed's total, unless one issue's events are asked for: all_totals less the days after its last whole day, and the rest from the rows. */
export function pgFeedCountSql(q: FeedQuery & HostScope): Sql {
  const p = new Params();
  const plan = q.issue === undefined ? dayPlan({ upTo: q.upTo }) : undefined;
  if (!plan) return { sql: `SELECT COUNT(*) AS n FROM events WHERE ${feedWhere(q, p, true)}`, params: p.values };
  const types = q.type === undefined ? undefined : { under: q.type };
  const parts = [`(SELECT COALESCE(SUM(n), 0) FROM all_totals WHERE ${dayCells(plan, p, q.streams, q.host, types, 'all')!})`];
  const after = dayCells(plan, p, q.streams, q.host, types, 'after');
  if (after) parts.push(`(SELECT -COALESCE(SUM(n), 0) FROM day_totals WHERE ${after})`);
  for (const part of plan.rows) {
    parts.push(`(SELECT COUNT(*) FROM events WHERE ${feedWhere(q, p, true)} AND ts_epoch >= ${p.add(part.since, '::float8')})`);
  }
  return { sql: `SELECT (${parts.join(' + ')})::bigint AS n`, params: p.values };
}

/** Newest first; with `after`, keyset pagination strictly below that position. */
export function pgFeedPageSql(q: FeedQuery & HostScope, after?: [number, string, string, number, number]): Sql {
  const p = new Params();
  let sql = `SELECT line, ts_epoch, stream, host, rank, "offset" FROM events WHERE ${feedWhere(q, p, false)}`;
  if (after) {
    sql += ` AND (ts_epoch, stream, host, rank, "offset") < (${p.add(after[0], '::float8')}, ${p.add(after[1], '::text')}, ${p.add(after[2], '::text')}, ${p.add(after[3], '::float8')}, ${p.add(after[4], '::bigint')})`;
  }
  sql += ` ORDER BY ts_epoch DESC, stream DESC, host DESC, rank DESC, "offset" DESC LIMIT ${p.add(q.limit, '::bigint')}`;
  if (!after) sql += ` OFFSET ${p.add(q.offset, '::bigint')}`;
  return { sql, params: p.values };
}

export function pgRecordsSql(q: RecordQuery & HostScope, tsTextFrom = 1): Sql {
  const p = new Params();
  const parts = [`stream IN (${p.list(q.streams)})`];
  hostBound(parts, p, q.host);
  if (q.issue !== undefined) parts.push(`issue = ${p.add(q.issue, '::float8')}`, 'issue != 0');
  if (q.types !== undefined) parts.push(`type IN (${p.list(q.types)})`);
  timeBounds(parts, p, q.since, undefined, q.upTo);
  const columns = q.fields ? columnsOf([...q.fields, 'line'], tsTextFrom) : `${NORMAL_COLUMNS}, line`;
  // The last N are read newest first and stop there; the store turns them back into log order.
  const order = q.last === undefined ? LOG_ORDER : `${LOG_ORDER_DESC} LIMIT ${p.add(q.last)}`;
  return { sql: `SELECT ${columns} FROM events WHERE ${parts.join(' AND ')} ORDER BY ${order}`, params: p.values };
}

/** export: original lines in file order (per host, oldest rotated file first, then offset) or in log order. */
export function pgExportSql(q: ExportQuery & HostScope): Sql {
  const p = new Params();
  const parts: string[] = [];
  if (q.streams?.length) parts.push(`stream IN (${p.list(q.streams)})`);
  hostBound(parts, p, q.host);
  timeBounds(parts, p, q.since, q.until);
  const order = q.sort === 'time' ? LOG_ORDER : 'host, stream, rank, "offset"';
  return { sql: `SELECT line FROM events ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''} ORDER BY ${order}`, params: p.values };
}

/** Per host: sources, rows, rejects and checkpoint lag as the mirror records them (status, doctor). */
export const PG_HOSTS_SQL = `SELECT host, COUNT(*) AS sources, COALESCE(SUM(rows), 0) AS rows, COALESCE(SUM(rejects), 0) AS rejects,
    COALESCE(SUM(GREATEST(size - "offset", 0)), 0) AS lag_bytes, MAX(updated_at) AS updated_at
  FROM sources GROUP BY host ORDER BY host`;
