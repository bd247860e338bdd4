import { TOKENS_PER_PRICE, type PriceTable } from '../model/cost.js';
import type { EventQuery, FeedQuery, GroupKey, GroupQuery, RecordQuery } from '../model/query.js';
import { DAY_SECONDS, STAGE_COMPLETED, SUCCESS, TYPE_PREFIX_END } from '../model/rules.js';

/**
 * The read side's SQL, built per query shape (how many streams and types,
 * which bounds) and prepared once per shape by Statements.shape. Values are
 * always bound, never spliced in.
 */

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

const LOG_ORDER = 'ts_epoch, stream, rank, "offset"';
const NORMAL_COLUMNS = 'type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens';

/** since <= ts_epoch < until and ts_epoch <= upTo, each when given. */
function timeBounds(parts: string[], params: unknown[], since: number | undefined, until: number | undefined, upTo?: number): void {
  if (since !== undefined) {
    parts.push('ts_epoch >= ?');
    params.push(since);
  }
  if (until !== undefined) {
    parts.push('ts_epoch < ?');
    params.push(until);
  }
  if (upTo !== undefined) {
    parts.push('ts_epoch <= ?');
    params.push(upTo);
  }
}

function where(q: EventQuery): { sql: string; params: unknown[] } {
  const parts = [`stream IN (${marks(q.streams.length)})`, `type IN (${marks(q.types.length)})`];
  const params: unknown[] = [...q.streams, ...q.types];
  timeBounds(parts, params, q.since, q.until, q.upTo);
  if (q.timed) parts.push('ts_epoch != 0');
  return { sql: parts.join(' AND '), params };
}

export function eventsSql(q: EventQuery): { sql: string; params: unknown[] } {
  const w = where(q);
  const columns = q.fields ? q.fields.join(', ') : NORMAL_COLUMNS;
  // Without statistics the planner prefers the log-order index and a lookup per row; this one covers the query.
  return { sql: `SELECT ${columns} FROM events INDEXED BY events_type_time WHERE ${w.sql} ORDER BY ${LOG_ORDER}`, params: w.params };
}

const GROUP_EXPR: Record<GroupKey, string> = {
  stage: 'stage',
  model: 'model',
  issue: 'issue',
  // The UTC day number; SqliteSource turns it into YYYY-MM-DD (half the cost of strftime per row).
  date: `CAST(floor(ts_epoch / ${DAY_SECONDS}.0) AS INTEGER)`,
  success: `CASE WHEN result = '${SUCCESS}' THEN 1 ELSE 0 END`,
};

/**
 * costOf() from model/cost.ts as SQL, term for term in the same order, so
 * each event's cost is the same double in both backends.
 */
function costSql(config: PriceTable): { sql: string; params: unknown[] } {
  const models = Object.keys(config.prices);
  const fallback = config.prices[config.fallbackModel]!;
  const price = (side: 'input' | 'output') => ({
    sql: `CASE lower(COALESCE(model, '')) ${models.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ? END`,
    params: [...models.flatMap((m) => [m, config.prices[m]![side]]), fallback[side]],
  });
  const pin = price('input');
  const pout = price('output');
  return {
    sql: `CASE WHEN cost_usd > 0 THEN cost_usd ELSE (COALESCE(input_tokens, 0) / ${TOKENS_PER_PRICE.toExponential()}) * (${pin.sql}) + (COALESCE(output_tokens, 0) / ${TOKENS_PER_PRICE.toExponential()}) * (${pout.sql}) END`,
    params: [...pin.params, ...pout.params],
  };
}

/**
 * All-time stage.completed per stage is kept by the ingest in stage_totals
 * (sql/002); the answer is the same GROUP BY, without reading the rows. "As
 * of now" takes away the few rows stamped after now, found through the type
 * index.
 */
function stageTotalsSql(q: GroupQuery): { sql: string; params: unknown[] } | undefined {
  const allTime = q.since === undefined && q.until === undefined && !q.timed;
  if (!allTime || q.types.length !== 1 || q.types[0] !== STAGE_COMPLETED || q.by.length !== 1 || q.by[0] !== 'stage') return undefined;
  if (q.sum !== undefined && q.sum !== 'duration_s') return undefined;
  const streams = marks(q.streams.length);
  const totals = `SELECT stage AS k0, n, duration_sum AS s FROM stage_totals WHERE stream IN (${streams})`;
  const sum = q.sum ? 'TOTAL(s)' : '0';
  if (q.upTo === undefined) return { sql: `SELECT k0, SUM(n) AS n, ${sum} AS s FROM (${totals}) GROUP BY k0`, params: [...q.streams] };
  const later = `SELECT stage, -COUNT(*), -TOTAL(duration_s) FROM events INDEXED BY events_type_time
    WHERE stream IN (${streams}) AND type = '${STAGE_COMPLETED}' AND ts_epoch > ? AND stage IS NOT NULL GROUP BY stage`;
  return {
    sql: `SELECT k0, SUM(n) AS n, ${sum} AS s FROM (${totals} UNION ALL ${later}) GROUP BY k0 HAVING SUM(n) > 0`,
    params: [...q.streams, ...q.streams, q.upTo],
  };
}

export function groupsSql(q: GroupQuery): { sql: string; params: unknown[] } {
  const rollup = stageTotalsSql(q);
  if (rollup) return rollup;
  const w = where(q);
  const keys = q.by.map((k, i) => `${GROUP_EXPR[k]} AS k${i}`).join(', ');
  const groupBy = q.by.map((_, i) => `k${i}`).join(', ');
  if (q.sum === 'cost') {
    const cost = costSql(q.prices!);
    return {
      sql: `SELECT ${groupBy}, COUNT(*) AS n, TOTAL(v) AS s FROM (SELECT ${keys}, ${cost.sql} AS v FROM events INDEXED BY events_type_time WHERE ${w.sql})
        WHERE v > 0 GROUP BY ${groupBy}`,
      params: [...cost.params, ...w.params],
    };
  }
  const sum = q.sum ? `TOTAL(${q.sum})` : '0';
  return {
    sql: `SELECT ${keys}, COUNT(*) AS n, ${sum} AS s FROM events INDEXED BY events_type_time WHERE ${w.sql} GROUP BY ${groupBy}`,
    params: w.params,
  };
}

/**
 * `forCount` states the type filter as one range, so COUNT walks just that
 * part of the type index; the page query states it as a plain test, so the
 * planner walks the log-order index newest first and stops at LIMIT.
 */
function feedWhere(q: FeedQuery, forCount: boolean): { sql: string; params: unknown[] } {
  const parts = [`stream IN (${marks(q.streams.length)})`];
  const params: unknown[] = [...q.streams];
  if (q.type !== undefined && forCount) {
    // t itself or t.* as one range (model/rules.ts typeMatches).
    parts.push('type >= ? AND type < ? AND (type = ? OR type >= ?)');
    params.push(q.type, `${q.type}${TYPE_PREFIX_END}`, q.type, `${q.type}.`);
  } else if (q.type !== undefined) {
    parts.push('(type = ? OR substr(type, 1, ?) = ?)');
    params.push(q.type, q.type.length + 1, `${q.type}.`);
  }
  if (q.issue !== undefined) {
    parts.push('issue = ?');
    params.push(q.issue);
    // Lets the planner use sql/004's partial index of non-zero issues.
    if (q.issue !== 0) parts.push('issue != 0');
  }
  timeBounds(parts, params, undefined, undefined, q.upTo);
  return { sql: parts.join(' AND '), params };
}

export function feedCountSql(q: FeedQuery): { sql: string; params: unknown[] } {
  const w = feedWhere(q, true);
  return { sql: `SELECT COUNT(*) AS n FROM events WHERE ${w.sql}`, params: w.params };
}

/** Newest first; with `after`, keyset pagination strictly below that position. */
export function feedPageSql(q: FeedQuery, after?: [number, string, number, number]): { sql: string; params: unknown[] } {
  const w = feedWhere(q, false);
  let sql = `SELECT line, ts_epoch, stream, rank, "offset" FROM events WHERE ${w.sql}`;
  const params = [...w.params];
  if (after) {
    sql += ' AND (ts_epoch, stream, rank, "offset") < (?, ?, ?, ?)';
    params.push(...after);
  }
  sql += ' ORDER BY ts_epoch DESC, stream DESC, rank DESC, "offset" DESC LIMIT ?';
  params.push(q.limit);
  if (!after) {
    sql += ' OFFSET ?';
    params.push(q.offset);
  }
  return { sql, params };
}

/**
 * Events with their lines in log order: one non-zero issue's through its
 * index (sql/004), typed ones through the type index.
 */
export function recordsSql(q: RecordQuery): { sql: string; params: unknown[] } {
  const parts = [`stream IN (${marks(q.streams.length)})`];
  const params: unknown[] = [...q.streams];
  let index = '';
  if (q.issue !== undefined) {
    // "issue != 0" as written in sql/004, so the planner may use that partial index.
    parts.push('issue = ?', 'issue != 0');
    params.push(q.issue);
    index = 'INDEXED BY events_issue';
  }
  if (q.types !== undefined) {
    parts.push(`type IN (${marks(q.types.length)})`);
    params.push(...q.types);
    if (!index) index = 'INDEXED BY events_type_time';
  }
  timeBounds(parts, params, q.since, undefined, q.upTo);
  const columns = q.fields ? [...q.fields, 'line'].join(', ') : `${NORMAL_COLUMNS}, line`;
  return { sql: `SELECT ${columns} FROM events ${index} WHERE ${parts.join(' AND ')} ORDER BY ${LOG_ORDER}`, params };
}

/** The same query without its INDEXED BY clauses, for a mirror whose secondary indexes are pending (bulk.ts). */
export function withoutIndexHints(sql: string): string {
  return sql.replace(/ INDEXED BY \w+/g, '');
}

export interface ExportQuery {
  streams?: string[];
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** file (default): oldest rotated file first, then byte offset; time: log order (METRICS.md). */
  sort?: 'file' | 'time';
}

/** export: original lines in file order (oldest rotated file first, then offset) or in log order. */
export function exportSql(q: ExportQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.streams?.length) {
    where.push(`stream IN (${marks(q.streams.length)})`);
    params.push(...q.streams);
  }
  timeBounds(where, params, q.since, q.until);
  const order = q.sort === 'time' ? LOG_ORDER : 'stream, rank, "offset"';
  return { sql: `SELECT line FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`, params };
}
