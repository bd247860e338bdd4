import { TOKENS_PER_PRICE, type PriceTable } from '../model/cost.js';
import type { EventQuery, FeedQuery, GroupKey, GroupQuery, PairQuery, RecordQuery } from '../model/query.js';
import type { NormalEvent } from '../model/event.js';
import type { ExportQuery } from './api.js';
import { DATED_SQL, dayPlan, endDayPlan, groupPlan, oddCostRows, type DayPlan, type GroupPlan } from './day-plan.js';
import type { NameCodes, StreamCode } from './names.js';
import { PIPELINE_COMPLETED, PIPELINE_STARTED } from '../model/rules.js';
import { DAY_OF, OK_OF } from './statements.js';

/**
 * The read side's SQL over sql/005's tables, built per query shape (how many
 * streams and types, which bounds) and prepared once per shape by
 * SqliteStore.shape. Values are always bound, never spliced in; stream and
 * type names are turned into their codes first (an unknown name matches
 * nothing). A `type` column comes back as its code: the store names it.
 */

type Sql = { sql: string; params: unknown[] };

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** column IN (codes); no code at all matches nothing (-1 is no code), and keeps the term usable by an index. */
function oneOf(column: string, codes: readonly number[]): Sql {
  const list = codes.length > 0 ? codes : [-1];
  return { sql: `${column} IN (${marks(list.length)})`, params: [...list] };
}

/** Every field but ts_text, which a query reads only when it names it (the timeline). */
const NORMAL_FIELDS: (keyof NormalEvent)[] = ['type', 'ts_epoch', 'issue', 'stage', 'result', 'duration_s', 'cost_usd', 'model', 'input_tokens', 'output_tokens'];
/**
 * The columns of `fields`. ts_text (sql/011) was not kept for the rows
 * mirrored before it, those whose line id is below `tsTextFrom`: for them the
 * line and the epoch come too (old_line, old_epoch), which the store turns into
 * ts_text as the ingest would.
 */
function columnsOf(fields: readonly (keyof NormalEvent)[], table = '', tsTextFrom = 1): string {
  return fields.map((f) => {
    if (f === 'type') return `${table}type_id AS type`;
    if (f === 'ts_text' && tsTextFrom > 1) {
      // The row's id named by its table: inside the subquery a bare id is the line's.
      const id = `${table || 'event_rows.'}id`;
      return `${table}ts_text, CASE WHEN ${id} < ${tsTextFrom} THEN (SELECT l.line FROM lines l WHERE l.id = ${id}) END AS old_line, ${table}ts_epoch AS old_epoch`;
    }
    return `${table}${f}`;
  }).join(', ');
}

/**
 * Log order (docs/metrics.md): time, then stream name, then the file's rank, then
 * its position. Within a file rows are inserted in offset order, so the row
 * id orders them as the offset does; between streams the codes are not in
 * name order, so more than one stream is ranked by name explicitly.
 */
function streamRank(streams: StreamCode[], table = ''): Sql | undefined {
  if (streams.length < 2) return undefined;
  return { sql: `CASE ${table}stream_id ${streams.map((_, i) => `WHEN ? THEN ${i}`).join(' ')} END`, params: streams.map((s) => s.id) };
}

/**
 * The table's own key (stream, type, time): without statistics the planner
 * prefers the log-order index, which walks every type in the time range.
 */
const BY_TYPE = 'INDEXED BY sqlite_autoindex_event_rows_1';

function logOrder(streams: StreamCode[], table = '', dir = ''): Sql {
  const rank = streamRank(streams, table);
  const terms = [`${table}ts_epoch${dir}`, ...(rank ? [`${rank.sql}${dir}`] : []), `${table}rank${dir}`, `${table}id${dir}`];
  return { sql: terms.join(', '), params: rank?.params ?? [] };
}

/** since <= ts_epoch < until and ts_epoch <= upTo, each when given. */
function timeBounds(parts: string[], params: unknown[], since: number | undefined, until: number | undefined, upTo?: number, table = ''): void {
  if (since !== undefined) {
    parts.push(`${table}ts_epoch >= ?`);
    params.push(since);
  }
  if (until !== undefined) {
    parts.push(`${table}ts_epoch < ?`);
    params.push(until);
  }
  if (upTo !== undefined) {
    parts.push(`${table}ts_epoch <= ?`);
    params.push(upTo);
  }
}

/** The rows of a query; `extra` terms come before its time bounds, so a bound of theirs is the one the planner seeks by. */
function where(q: EventQuery, streams: StreamCode[], codes: NameCodes, extra: (string | Sql)[] = []): Sql {
  const stream = oneOf('stream_id', streams.map((s) => s.id));
  const type = oneOf('type_id', codes.knownTypes(q.types));
  const parts = [stream.sql, type.sql];
  const params: unknown[] = [...stream.params, ...type.params];
  for (const term of extra) {
    parts.push(typeof term === 'string' ? term : term.sql);
    if (typeof term !== 'string') params.push(...term.params);
  }
  timeBounds(parts, params, q.since, q.until, q.upTo);
  if (q.timed) parts.push(...DATED_SQL);
  return { sql: parts.join(' AND '), params };
}

export function eventsSql(q: EventQuery, codes: NameCodes, tsTextFrom = 1): Sql {
  const streams = codes.knownStreams(q.streams);
  const w = where(q, streams, codes);
  const order = logOrder(streams);
  // The table is clustered by (stream, type, time): it is the covering index these reads walk.
  return { sql: `SELECT ${columnsOf(q.fields ?? NORMAL_FIELDS, '', tsTextFrom)} FROM event_rows ${BY_TYPE} WHERE ${w.sql} ORDER BY ${order.sql}`, params: [...w.params, ...order.params] };
}

const GROUP_EXPR: Record<GroupKey, string> = {
  stage: 'stage',
  model: 'model',
  issue: 'issue',
  // The UTC day number; the mirror source (read/mirror-source.ts) turns it into YYYY-MM-DD (half the cost of strftime per row).
  date: DAY_OF('ts_epoch'),
  success: OK_OF('result'),
};

/**
 * costOf() from model/cost.ts as SQL, term for term in the same order, so
 * each event's cost is the same double in both backends. Over a rollup's
 * cells (`cells`: day_totals, issue_costs) the same prices apply to a cell's
 * token sums, added to its positive cost_usd.
 */
function costSql(config: PriceTable, cells = false): Sql {
  const models = Object.keys(config.prices);
  const fallback = config.prices[config.fallbackModel]!;
  const price = (side: 'input' | 'output') => ({
    sql: `CASE lower(COALESCE(model, '')) ${models.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ? END`,
    params: [...models.flatMap((m) => [m, config.prices[m]![side]]), fallback[side]],
  });
  const pin = price('input');
  const pout = price('output');
  const per = TOKENS_PER_PRICE.toExponential();
  const [tin, tout] = cells ? ['tok_in', 'tok_out'] : ['COALESCE(input_tokens, 0)', 'COALESCE(output_tokens, 0)'];
  const priced = `(${tin} / ${per}) * (${pin.sql}) + (${tout} / ${per}) * (${pout.sql})`;
  return {
    sql: cells ? `usd_sum + ${priced}` : `CASE WHEN cost_usd > 0 THEN cost_usd ELSE ${priced} END`,
    params: [...pin.params, ...pout.params],
  };
}

/** Each group key as the rollups hold it (sql/006-008): day_totals and all_totals, and issue_costs. */
const CELL_EXPR: Record<'day_totals' | 'issue_costs', Partial<Record<GroupKey, string>>> = {
  day_totals: {
    stage: 'CASE WHEN nulls & 1 THEN NULL ELSE stage END',
    model: 'CASE WHEN nulls & 2 THEN NULL ELSE model END',
    date: 'day',
    success: 'ok',
  },
  issue_costs: {
    issue: 'CASE WHEN nulls & 1 THEN NULL ELSE issue END',
    model: 'CASE WHEN nulls & 2 THEN NULL ELSE model END',
    date: 'day',
  },
};

/**
 * A rollup's cells of these streams and types: over a plan's whole days
 * (`inside`), all of them, or those an all-time count takes away from
 * all_totals: before its first whole day (`before`: the days no Date can
 * name, when it leaves out events with no date), past its last (`after`),
 * and day 0 when it leaves out events of no usable time (`zero`).
 * Undefined when there are none.
 * Each is one range of the key, so it stays a search, not a walk of every day.
 */
function dayCells(plan: DayPlan, streams: StreamCode[], types: number[] | undefined, days: 'inside' | 'all' | 'before' | 'after' | 'zero' = 'inside'): Sql | undefined {
  if ((days === 'before' && plan.from === undefined) || (days === 'after' && plan.to === undefined) || (days === 'zero' && !plan.skipDayZero)) return undefined;
  const stream = oneOf('stream_id', streams.map((s) => s.id));
  const parts = [stream.sql];
  const params: unknown[] = [...stream.params];
  if (types) {
    const type = oneOf('type_id', types);
    parts.push(type.sql);
    params.push(...type.params);
  }
  if (days === 'before') {
    parts.push('day < ?');
    params.push(plan.from);
  }
  if (days === 'after') {
    parts.push('day > ?');
    params.push(plan.to);
  }
  if (days === 'zero') parts.push('day = 0');
  if (days === 'inside') {
    if (plan.from !== undefined) {
      parts.push('day >= ?');
      params.push(plan.from);
    }
    if (plan.to !== undefined) {
      parts.push('day <= ?');
      params.push(plan.to);
    }
    if (plan.skipDayZero) parts.push('day != 0');
  }
  return { sql: parts.join(' AND '), params };
}

/** The `stats` of a group over rows: least and greatest duration (absent as 0), positive cost_usd summed. */
const ROW_STATS = ', MIN(COALESCE(duration_s, 0)), MAX(COALESCE(duration_s, 0)), TOTAL(CASE WHEN cost_usd > 0 THEN cost_usd END)';

/**
 * One grouped read of event_rows: k0…, n, s (and the stats). A cost is summed
 * only where it is > 0, and not counted: day_totals cannot count those.
 */
function rowGroups(q: GroupQuery, w: Sql, index = BY_TYPE): Sql {
  const keys = q.by.map((k, i) => `${GROUP_EXPR[k]} AS k${i}`).join(', ');
  const groupBy = q.by.map((_, i) => `k${i}`).join(', ');
  const stats = q.stats ? ROW_STATS : '';
  if (q.sum === 'cost') {
    const cost = costSql(q.prices!);
    return {
      sql: `SELECT ${groupBy}, 0 AS n, TOTAL(v) AS s${stats} FROM (SELECT ${keys}, ${cost.sql} AS v, duration_s, cost_usd FROM event_rows ${index} WHERE ${w.sql})
        WHERE v > 0 GROUP BY ${groupBy}`,
      params: [...cost.params, ...w.params],
    };
  }
  return { sql: `SELECT ${keys}, COUNT(*) AS n, ${q.sum ? `TOTAL(${q.sum})` : '0'} AS s${stats} FROM event_rows ${index} WHERE ${w.sql} GROUP BY ${groupBy}`, params: w.params };
}

/**
 * Whether a row of the read's streams and types lies after the window's end
 * in the day it ends in (the plan's `tail`). Uncorrelated, so SQLite runs
 * it once per statement however many rows the statement tests it on.
 */
function laterInEndDay(q: GroupQuery, codes: NameCodes, tail: NonNullable<DayPlan['tail']>): Sql {
  const stream = oneOf('stream_id', codes.knownStreams(q.streams).map((c) => c.id));
  const type = oneOf('type_id', codes.knownTypes(q.types));
  return {
    sql: `EXISTS (SELECT 1 FROM event_rows ${BY_TYPE} WHERE ${stream.sql} AND ${type.sql} AND ts_epoch ${tail.inclusive ? '>=' : '>'} ? AND ts_epoch < ?)`,
    params: [...stream.params, ...type.params, tail.after, tail.before],
  };
}

/**
 * Whether a cell all_totals keeps for the read's streams and types is not
 * exact (sql/010): an all-time sum then adds the days' sums. Uncorrelated,
 * as laterInEndDay.
 */
function inexactSums(plan: GroupPlan, streams: StreamCode[], types: number[] | undefined): Sql {
  const all = dayCells(plan, streams, types, 'all')!;
  return { sql: `EXISTS (SELECT 1 FROM all_totals WHERE ${all.sql} AND inexact)`, params: all.params };
}

/** `w` and `term`: a bound term last, so the planner seeks by w's own bounds. */
const and = (w: Sql, term: Sql): Sql => ({ sql: `${w.sql} AND ${term.sql}`, params: [...w.params, ...term.params] });
const not = (term: Sql): Sql => ({ sql: `NOT ${term.sql}`, params: term.params });

/**
 * Grouped counts, sums and stats: the window's whole days from a rollup
 * (all_totals less the days after the window, for an all-time count or sum), its
 * partial days from the rows (store/day-plan.ts); for a cost, also the
 * whole days' events the rollups cannot price, through their partial index.
 * The day a window ends in (the plan's `tail`) comes from its cell when no
 * row of the read lies after the window's end that day, and from its rows
 * otherwise, decided inside this one statement: each piece that belongs to
 * one side holds the test, and the rows' piece seeks from past that day
 * when they are not wanted, so it reads nothing.
 */
function rollupSql(q: GroupQuery, plan: GroupPlan, codes: NameCodes): Sql {
  const streams = codes.knownStreams(q.streams);
  const types = codes.knownTypes(q.types);
  const expr = CELL_EXPR[plan.table];
  const keys = q.by.map((k, i) => `${expr[k]!} AS k${i}`).join(', ');
  const groupBy = q.by.map((_, i) => `k${i}`).join(', ');
  const cost = q.sum === 'cost' ? costSql(q.prices!, true) : undefined;
  const s = cost ? cost.sql : q.sum ? 'duration_sum' : '0';
  const stats = q.stats ? ', dur_min, dur_max, usd_sum' : '';
  const pieces: string[] = [];
  const params: unknown[] = [];
  const add = (r: Sql) => {
    pieces.push(r.sql);
    params.push(...r.params);
  };
  const tail = plan.tail;
  const later = tail && laterInEndDay(q, codes, tail);
  const endDay = endDayPlan(plan);
  const cellsOf = (cells: Sql) => ({ sql: `SELECT ${keys}, ${cost ? '0' : 'n'} AS n, ${s} AS s${stats} FROM ${plan.table} WHERE ${cells.sql}`, params: [...(cost?.params ?? []), ...cells.params] });
  const takenAway = (cells: Sql) => ({ sql: `SELECT ${keys}, -n, -${s} FROM day_totals WHERE ${cells.sql}`, params: cells.params });
  // An all-time sum holds both ways to read its whole days, each under the test of which one answers.
  const inexact = plan.exactSums ? inexactSums(plan, streams, types) : undefined;
  const when = (cells: Sql, term: Sql | undefined) => (term ? and(cells, term) : cells);
  if (plan.allTime) {
    const exact = inexact && not(inexact);
    const all = when(dayCells(plan, streams, types, 'all')!, exact);
    add({ sql: `SELECT ${keys}, n, ${s} AS s FROM all_totals WHERE ${all.sql}`, params: all.params });
    for (const days of ['before', 'after', 'zero'] as const) {
      const out = dayCells(days === 'after' && endDay ? endDay : plan, streams, types, days);
      if (out) add(takenAway(when(out, exact)));
    }
    if (endDay) add(takenAway(when(and(dayCells(endDay, streams, types)!, later!), exact)));
  }
  if (!plan.allTime || inexact) {
    add(cellsOf(when(dayCells(plan, streams, types)!, inexact)));
    if (endDay) add(cellsOf(when(and(dayCells(endDay, streams, types)!, not(later!)), inexact)));
  }
  for (const part of plan.rows) {
    if (part !== tail?.part) {
      add(rowGroups(q, where({ ...q, ...part }, streams, codes)));
      continue;
    }
    const from = { sql: `ts_epoch >= CASE WHEN ${later!.sql} THEN ? ELSE ? END`, params: [...later!.params, part.since, tail.before] };
    add(rowGroups(q, where({ ...q, ...part, since: undefined }, streams, codes, [from])));
  }
  if (cost) {
    const odd = (p: DayPlan) => {
      const { terms, ...bounds } = oddCostRows(p);
      return where({ ...q, ...bounds }, streams, codes, terms);
    };
    add(rowGroups(q, odd(plan), 'INDEXED BY event_rows_odd_tokens'));
    if (endDay) add(rowGroups(q, and(odd(endDay), not(later!)), 'INDEXED BY event_rows_odd_tokens'));
  }
  const outer = q.stats ? ', MIN(dur_min), MAX(dur_max), TOTAL(usd_sum)' : '';
  return {
    sql: `SELECT ${groupBy}, SUM(n) AS n, TOTAL(s) AS s${outer} FROM (${pieces.join(' UNION ALL ')}) GROUP BY ${groupBy} HAVING ${cost ? 'TOTAL(s) > 0' : 'SUM(n) > 0'}`,
    params,
  };
}

/**
 * DORA's pair samples of a window (sql/009): the completions inside it whose
 * partner is inside it too. One row: how many of the streams hold pipeline
 * events at all (pairs are kept per stream, so more than one cannot answer),
 * then the leads, their seconds summed, the restores and theirs.
 */
export function pairTotalsSql(q: PairQuery, codes: NameCodes): Sql {
  const streams = oneOf('stream_id', codes.knownStreams(q.streams).map((s) => s.id));
  const types = oneOf('type_id', codes.knownTypes([PIPELINE_STARTED, PIPELINE_COMPLETED]));
  const parts = [streams.sql];
  const params: unknown[] = [...streams.params, ...types.params, q.since, q.since, q.since, q.since, ...streams.params];
  timeBounds(parts, params, q.since, q.until, q.upTo);
  const seconds = (from: string) => `COUNT(CASE WHEN ${from} >= ? THEN 1 END), TOTAL(CASE WHEN ${from} >= ? THEN ts_epoch - ${from} END)`;
  return {
    sql: `SELECT (SELECT COUNT(DISTINCT stream_id) FROM all_totals WHERE ${streams.sql} AND ${types.sql} AND n > 0), ${seconds('lead_from')}, ${seconds('fail_from')}
      FROM dora_pairs WHERE ${parts.join(' AND ')}`,
    params,
  };
}

/** Grouped counts and sums: from the rollups where they can answer (store/day-plan.ts), else from the rows. */
export function groupsSql(q: GroupQuery, codes: NameCodes): Sql {
  const plan = groupPlan(q);
  if (plan) return rollupSql(q, plan, codes);
  return rowGroups(q, where(q, codes.knownStreams(q.streams), codes));
}

function feedWhere(q: FeedQuery, streams: StreamCode[], codes: NameCodes): Sql {
  const stream = oneOf('e.stream_id', streams.map((s) => s.id));
  const parts = [stream.sql];
  const params: unknown[] = [...stream.params];
  if (q.type !== undefined) {
    const type = oneOf('e.type_id', codes.typesUnder(q.type));
    parts.push(type.sql);
    params.push(...type.params);
  }
  if (q.issue !== undefined) {
    parts.push('e.issue = ?');
    params.push(q.issue);
    // Lets the planner use the partial index of non-zero issues.
    if (q.issue !== 0) parts.push('e.issue != 0');
  }
  timeBounds(parts, params, undefined, undefined, q.upTo, 'e.');
  return { sql: parts.join(' AND '), params };
}

/**
 * The feed's total, unless one issue's events are asked for: all_totals less
 * the days after its last whole day from day_totals, and the rest from the rows.
 */
export function feedCountSql(q: FeedQuery, codes: NameCodes): Sql {
  const streams = codes.knownStreams(q.streams);
  const plan = q.issue === undefined ? dayPlan({ upTo: q.upTo }) : undefined;
  const w = feedWhere(q, streams, codes);
  if (!plan) return { sql: `SELECT COUNT(*) AS n FROM event_rows e WHERE ${w.sql}`, params: w.params };
  const types = q.type === undefined ? undefined : codes.typesUnder(q.type);
  const all = dayCells(plan, streams, types, 'all')!;
  const parts = [`(SELECT COALESCE(SUM(n), 0) FROM all_totals WHERE ${all.sql})`];
  const params = [...all.params];
  const after = dayCells(plan, streams, types, 'after');
  if (after) {
    parts.push(`(SELECT -COALESCE(SUM(n), 0) FROM day_totals WHERE ${after.sql})`);
    params.push(...after.params);
  }
  for (const part of plan.rows) {
    parts.push(`(SELECT COUNT(*) FROM event_rows e WHERE ${w.sql} AND e.ts_epoch >= ?)`);
    params.push(...w.params, part.since);
  }
  return { sql: `SELECT ${parts.join(' + ')} AS n`, params };
}

/** Where a page ends: log order, the stream by name, the row by id. */
export type FeedPosition = [ts_epoch: number, stream: string, rank: number, id: number];

/** Newest first; with `after`, keyset pagination strictly below that position. */
export function feedPageSql(q: FeedQuery, codes: NameCodes, after?: FeedPosition): Sql {
  const streams = codes.knownStreams(q.streams);
  const w = feedWhere(q, streams, codes);
  let sql = `SELECT l.line, e.ts_epoch, e.stream_id, e.rank, e.id FROM event_rows e JOIN lines l ON l.id = e.id WHERE ${w.sql}`;
  const params = [...w.params];
  if (after) {
    const rank = streamRank(streams, 'e.');
    if (rank) {
      sql += ` AND (e.ts_epoch, ${rank.sql}, e.rank, e.id) < (?, ?, ?, ?)`;
      params.push(...rank.params, after[0], streams.findIndex((s) => s.name === after[1]), after[2], after[3]);
    } else {
      sql += ' AND (e.ts_epoch, e.rank, e.id) < (?, ?, ?)';
      params.push(after[0], after[2], after[3]);
    }
  }
  const order = logOrder(streams, 'e.', ' DESC');
  sql += ` ORDER BY ${order.sql} LIMIT ?`;
  params.push(...order.params, q.limit);
  if (!after) {
    sql += ' OFFSET ?';
    params.push(q.offset);
  }
  return { sql, params };
}

/** Events with their lines in log order (the last N newest first): one non-zero issue's through its partial index. */
export function recordsSql(q: RecordQuery, codes: NameCodes, tsTextFrom = 1): Sql {
  const streams = codes.knownStreams(q.streams);
  const stream = oneOf('e.stream_id', streams.map((s) => s.id));
  const parts = [stream.sql];
  const params: unknown[] = [...stream.params];
  let index = '';
  if (q.issue !== undefined) {
    // "issue != 0" as written in sql/005, so the planner may use that partial index.
    parts.push('e.issue = ?', 'e.issue != 0');
    params.push(q.issue);
    index = 'INDEXED BY event_rows_issue';
  }
  if (q.types !== undefined) {
    const type = oneOf('e.type_id', codes.knownTypes(q.types));
    parts.push(type.sql);
    params.push(...type.params);
  }
  timeBounds(parts, params, q.since, undefined, q.upTo, 'e.');
  // The last N are read newest first and stop there; the store turns them back into log order.
  const order = logOrder(streams, 'e.', q.last === undefined ? '' : ' DESC');
  const columns = [columnsOf(q.fields ?? NORMAL_FIELDS, 'e.', tsTextFrom), 'l.line'].filter(Boolean).join(', ');
  return {
    sql: `SELECT ${columns} FROM event_rows e ${index} JOIN lines l ON l.id = e.id WHERE ${parts.join(' AND ')} ORDER BY ${order.sql}${q.last === undefined ? '' : ' LIMIT ?'}`,
    params: [...params, ...order.params, ...(q.last === undefined ? [] : [q.last])],
  };
}

/** The same query without its INDEXED BY clauses, for a mirror whose secondary indexes are pending (bulk.ts). */
export function withoutIndexHints(sql: string): string {
  return sql.replace(/ INDEXED BY \w+/g, '');
}

/** export in log order (docs/metrics.md); file order is the store's walk of sources (SqliteStore.exportLines). */
export function exportByTimeSql(q: ExportQuery, codes: NameCodes): Sql {
  const streams = q.streams?.length ? codes.knownStreams(q.streams) : codes.allStreams();
  const stream = oneOf('e.stream_id', streams.map((s) => s.id));
  const parts = [stream.sql];
  const params: unknown[] = [...stream.params];
  timeBounds(parts, params, q.since, q.until, undefined, 'e.');
  const order = logOrder(streams, 'e.');
  return {
    sql: `SELECT l.line FROM event_rows e JOIN lines l ON l.id = e.id WHERE ${parts.join(' AND ')} ORDER BY ${order.sql}`,
    params: [...params, ...order.params],
  };
}

/** One source's lines in offset order, within the export's time bounds. */
export function exportSourceSql(q: ExportQuery): Sql {
  const parts = ['source_id = ?'];
  const params: unknown[] = [];
  timeBounds(parts, params, q.since, q.until);
  return { sql: `SELECT line FROM lines WHERE ${parts.join(' AND ')} ORDER BY "offset"`, params };
}
