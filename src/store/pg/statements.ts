import { DAY_SECONDS, PIPELINE_COMPLETED, PIPELINE_STARTED, ROLLUP_DAYS, SUCCESS } from '../../model/rules.js';
import type { SqlName } from '../statements.js';

/**
 * An event's UTC day number (model/rules.ts rollupDay, clamped before the
 * cast, which a day past 2^63 would fail) and its success, as day_totals
 * keys them (sql/pg/003).
 */
export const PG_DAY_OF = `GREATEST(${ROLLUP_DAYS[0]}, LEAST(${ROLLUP_DAYS[1]}, floor(ts_epoch / ${DAY_SECONDS})))::bigint`;
export const PG_OK_OF = `CASE WHEN result = '${SUCCESS}' THEN 1 ELSE 0 END`;

const PG_TOKENS_OF = (side: 'input' | 'output'): string =>
  `COALESCE(SUM(CASE WHEN cost_usd > 0 OR input_tokens < 0 OR output_tokens < 0 THEN 0 ELSE ${side}_tokens END), 0)`;

/** As ../statements.ts HAS_COST: the events issue_costs counts (sql/pg/006). */
const PG_HAS_COST = '(cost_usd > 0 OR (COALESCE(input_tokens, 0) >= 0 AND COALESCE(output_tokens, 0) >= 0 AND (input_tokens > 0 OR output_tokens > 0)))';
const PG_ISSUE_VALUES = `COALESCE(SUM(cost_usd) FILTER (WHERE cost_usd > 0), 0) AS usd_sum,
  COALESCE(SUM(CASE WHEN cost_usd > 0 THEN 0 ELSE input_tokens END), 0) AS tok_in, COALESCE(SUM(CASE WHEN cost_usd > 0 THEN 0 ELSE output_tokens END), 0) AS tok_out`;

/** day_totals' values over a group of events rows, as ingest/day-tally.ts sums them (sql/pg/005). */
export const PG_DAY_VALUES = `COUNT(*) AS n, COALESCE(SUM(duration_s), 0) AS duration_sum, MIN(COALESCE(duration_s, 0)) AS dur_min,
  MAX(COALESCE(duration_s, 0)) AS dur_max, COALESCE(SUM(cost_usd) FILTER (WHERE cost_usd > 0), 0) AS usd_sum,
  ${PG_TOKENS_OF('input')} AS tok_in, ${PG_TOKENS_OF('output')} AS tok_out`;

/**
 * The PostgreSQL text of the statements in ../statements.ts, by the same
 * names, each scoped to one host: $1 is always the host, the caller's
 * arguments follow as $2, $3, … in the SQLite statement's order.
 */
/** As the SQLite store's: sources of this host whose lines no generation on disk holds, through any chain of copies. */
/** A line and its event's columns, as the store's eventOffsets reads them (verify); a row before ts_text_from has no ts_text. */
const KEPT_LINE = `"offset", line, true AS has_row,
    id < (SELECT COALESCE(MAX(value::bigint), 1) FROM meta WHERE host = $1 AND key = 'ts_text_from') AS ts_untracked,
    type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, ts_text`;
const PRUNABLE = `WITH RECURSIVE held(id) AS (
    SELECT copy_of FROM sources WHERE host = $1 AND state IN ('active', 'copy') AND copy_of IS NOT NULL
    UNION SELECT p.copy_of FROM sources p JOIN held h ON p.id = h.id WHERE p.copy_of IS NOT NULL)
  SELECT s.id, s.stream, s.path, s.state, s.rows, s.rejects,
    (SELECT COALESCE(SUM(LENGTH(e.line)), 0) FROM events e WHERE e.host = s.host AND e.source_id = s.id) AS bytes,
    (SELECT MAX(e.ts_epoch) FROM events e WHERE e.host = s.host AND e.source_id = s.id) AS newest
  FROM sources s WHERE s.host = $1 AND s.kind = 'jsonl' AND s.id NOT IN (SELECT id FROM held)`;

export const PG_SQL = {
  sourceById: 'SELECT * FROM sources WHERE host = $1 AND id = $2',
  migrationsApplied: 'SELECT version, name, checksum, applied_at FROM schema_migrations WHERE $1::text IS NOT NULL ORDER BY version',
  sourceByInode: `SELECT * FROM sources WHERE host = $1 AND stream = $2 AND dev = $3 AND ino = $4
    AND state IN ('active', 'copy', 'gone') ORDER BY generation DESC LIMIT 1`,
  maxGeneration: 'SELECT MAX(generation) AS g FROM sources WHERE host = $1 AND stream = $2 AND dev = $3 AND ino = $4',
  knownSources: "SELECT * FROM sources WHERE host = $1 AND stream = $2 AND kind = 'jsonl' AND state IN ('active', 'copy', 'gone') ORDER BY rank",
  maxRank: 'SELECT MAX(rank) AS r FROM sources WHERE host = $1 AND stream = $2',
  minRankAbove: "SELECT MIN(rank) AS r FROM sources WHERE host = $1 AND stream = $2 AND kind = 'jsonl' AND state = 'active' AND rank > $3",
  nextRank: "SELECT MIN(rank) AS r FROM sources WHERE host = $1 AND stream = $2 AND kind = 'jsonl' AND rank > $3 AND id <> $4",
  insertSource: `INSERT INTO sources (host, stream, kind, path, dev, ino, generation, rank, head_len, head_hash, state, copy_of, first_seen, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
  moveSource: 'UPDATE sources SET path = $2, dev = $3, ino = $4, state = $5, updated_at = $6 WHERE host = $1 AND id = $7',
  setHead: 'UPDATE sources SET head_len = $2, head_hash = $3 WHERE host = $1 AND id = $4',
  setState: 'UPDATE sources SET state = $2, updated_at = $3 WHERE host = $1 AND id = $4',
  setRank: 'UPDATE sources SET rank = $2 WHERE host = $1 AND id = $3',
  deleteSource: 'DELETE FROM sources WHERE host = $1 AND id = $2',
  checkpoint: `UPDATE sources SET "offset" = $2, marker_hash = $3, size = $4, rows = rows + $5, rejects = rejects + $6,
    blanks = blanks + $7, updated_at = $8 WHERE host = $1 AND id = $9`,
  checkpointRead: `UPDATE sources SET "offset" = $2, marker_hash = $3, size = $4, mtime_ms = $5, tail_len = $6, rows = rows + $7,
    rejects = rejects + $8, blanks = blanks + $9, updated_at = $10 WHERE host = $1 AND id = $11`,
  setSeen: 'UPDATE sources SET size = $2, mtime_ms = $3 WHERE host = $1 AND id = $4',
  follow: `UPDATE sources SET state = $2, copy_of = $3, held_at = $4, held_len = $5, "offset" = $6, marker_hash = $7, size = $8, mtime_ms = $9,
    updated_at = $10 WHERE host = $1 AND id = $11`,
  heldCandidates: `SELECT * FROM sources WHERE host = $1 AND stream = $2 AND kind = 'jsonl' AND id <> $3 AND state <> 'copy'
    AND (rows + rejects > 0 OR held_len > 0) ORDER BY id DESC LIMIT 16`,
  continuedFrom: "SELECT 1 AS y FROM sources WHERE host = $1 AND copy_of = $2 AND state <> 'copy' AND held_at + held_len >= $3 LIMIT 1",
  ownRowBelow: `SELECT "offset" FROM events WHERE host = $1 AND source_id = $2 AND "offset" < $3
    UNION ALL SELECT "offset" FROM rejects WHERE host = $1 AND source_id = $2 AND "offset" < $3 ORDER BY 1 LIMIT 1`,
  ownEvents: 'SELECT "offset", line FROM events WHERE host = $1 AND source_id = $2 AND "offset" >= $3 AND "offset" < $4 ORDER BY "offset" LIMIT $5',
  ownRejects: `SELECT "offset", hash, length, sample FROM rejects WHERE host = $1 AND source_id = $2 AND "offset" >= $3 AND "offset" < $4
    ORDER BY "offset" LIMIT $5`,
  deleteReject: 'DELETE FROM rejects WHERE host = $1 AND source_id = $2 AND "offset" = $3',
  insertLineReject: `INSERT INTO rejects (host, source_id, stream, path, "offset", length, reason, sample, at, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
  insertReject: `INSERT INTO rejects (host, source_id, stream, path, "offset", length, reason, sample, at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
  insertLegacy: 'INSERT INTO legacy_entries (host, key, source_id, "offset") VALUES ($1, $2, $3, $4)',
  legacySource: "SELECT * FROM sources WHERE host = $1 AND stream = $2 AND kind = 'legacy-costs' AND path = $3",
  legacyTail: 'SELECT line FROM events WHERE host = $1 AND source_id = $2 ORDER BY "offset" DESC LIMIT $3',
  legacyCount: 'SELECT COUNT(*) AS n FROM legacy_entries WHERE host = $1 AND key > $2 AND key < $3',
  maxOffset: 'SELECT MAX("offset") AS o FROM events WHERE host = $1 AND source_id = $2',
  getMeta: 'SELECT value FROM meta WHERE host = $1 AND key = $2',
  setMeta: 'INSERT INTO meta (host, key, value) VALUES ($1, $2, $3) ON CONFLICT (host, key) DO UPDATE SET value = excluded.value',
  deleteMeta: 'DELETE FROM meta WHERE host = $1 AND key = $2',
  allSources: 'SELECT * FROM sources WHERE host = $1 ORDER BY stream, rank',
  liveStreams: "SELECT DISTINCT stream FROM sources WHERE host = $1 AND kind = 'jsonl' AND state IN ('active', 'copy') ORDER BY stream",
  rejectsByReason: 'SELECT reason, COUNT(*) AS n FROM rejects WHERE host = $1 GROUP BY reason ORDER BY reason',
  eventOffsets: `SELECT ${KEPT_LINE} FROM events WHERE host = $1 AND source_id = $2 ORDER BY "offset"`,
  rejectOffsets: 'SELECT "offset", length FROM rejects WHERE host = $1 AND source_id = $2 ORDER BY "offset"',
  countEvents: 'SELECT COUNT(*) AS n FROM events WHERE host = $1',
  countRejects: 'SELECT COUNT(*) AS n FROM rejects WHERE host = $1',
  dayTotalsKept: `SELECT stream, CASE WHEN nulls & 4 = 4 THEN NULL ELSE type END AS type, day,
      CASE WHEN nulls & 1 = 1 THEN NULL ELSE stage END AS stage, CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END AS model, ok, n, duration_sum,
      dur_min, dur_max, usd_sum, tok_in, tok_out
    FROM day_totals WHERE host = $1`,
  dayTotalsFromRows: `SELECT stream, type, ${PG_DAY_OF} AS day, stage, model, ${PG_OK_OF} AS ok, ${PG_DAY_VALUES}
    FROM events WHERE host = $1 GROUP BY stream, type, 3, stage, model, 6`,
  prunable: `${PRUNABLE} AND s.state IN ('gone', 'replaced') ORDER BY s.stream, s.rank`,
  prunableSource: `${PRUNABLE} AND s.id = $2`,
  detachCopies: 'UPDATE sources SET copy_of = NULL, held_at = 0, held_len = 0 WHERE host = $1 AND copy_of = $2',
  daysOfSource: `SELECT DISTINCT stream, type, ${PG_DAY_OF} AS day FROM events WHERE host = $1 AND source_id = $2`,
  // A NULL type is kept as '' with bit 4 of nulls (ADD_DAY_TOTALS).
  clearDay: `DELETE FROM day_totals WHERE host = $1 AND stream = $2 AND type = COALESCE($3::text, '') AND day = $4::bigint
    AND (nulls & 4 = 4) = ($3::text IS NULL)`,
  recountDay: `INSERT INTO day_totals SELECT host, stream, COALESCE(type, ''), ${PG_DAY_OF},
      (CASE WHEN stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END) | (CASE WHEN type IS NULL THEN 4 ELSE 0 END),
      COALESCE(stage, ''), COALESCE(model, ''), ${PG_OK_OF}, ${PG_DAY_VALUES}
    FROM events WHERE host = $1 AND stream = $2 AND (type = $3::text OR ($3::text IS NULL AND type IS NULL))
      AND ts_epoch >= $4::float8 AND ts_epoch < $5::float8
    GROUP BY host, stream, type, 4, 5, 6, 7, 8`,
  clearIssueDay: `DELETE FROM issue_costs WHERE host = $1 AND stream = $2 AND type = COALESCE($3::text, '') AND day = $4::bigint
    AND (nulls & 4 = 4) = ($3::text IS NULL)`,
  recountIssueDay: `INSERT INTO issue_costs SELECT host, stream, COALESCE(type, ''), ${PG_DAY_OF},
      (CASE WHEN issue IS NULL THEN 1 ELSE 0 END) | (CASE WHEN model IS NULL THEN 2 ELSE 0 END) | (CASE WHEN type IS NULL THEN 4 ELSE 0 END),
      COALESCE(issue, 0), COALESCE(model, ''), ${PG_ISSUE_VALUES}
    FROM events WHERE host = $1 AND stream = $2 AND (type = $3::text OR ($3::text IS NULL AND type IS NULL))
      AND ts_epoch >= $4::float8 AND ts_epoch < $5::float8 AND ${PG_HAS_COST}
    GROUP BY host, stream, type, 4, 5, 6, 7`,
  issueCostsKept: `SELECT stream, CASE WHEN nulls & 4 = 4 THEN NULL ELSE type END AS type, day,
      CASE WHEN nulls & 1 = 1 THEN NULL ELSE issue END AS issue, CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END AS model, usd_sum, tok_in, tok_out
    FROM issue_costs WHERE host = $1`,
  issueCostsFromRows: `SELECT stream, type, ${PG_DAY_OF} AS day, issue, model, ${PG_ISSUE_VALUES}
    FROM events WHERE host = $1 AND ${PG_HAS_COST} GROUP BY stream, type, 3, issue, model`,
  allTotalsKept: `SELECT stream, CASE WHEN nulls & 4 = 4 THEN NULL ELSE type END AS type, 0 AS day,
      CASE WHEN nulls & 1 = 1 THEN NULL ELSE stage END AS stage, CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END AS model, ok, n, duration_sum,
      inexact::int AS inexact
    FROM all_totals WHERE host = $1`,
  allTotalsFromDays: `SELECT stream, CASE WHEN nulls & 4 = 4 THEN NULL ELSE type END AS type, 0 AS day,
      CASE WHEN nulls & 1 = 1 THEN NULL ELSE stage END AS stage, CASE WHEN nulls & 2 = 2 THEN NULL ELSE model END AS model, ok,
      SUM(n)::bigint AS n, COALESCE(SUM(duration_sum), 0) AS duration_sum
    FROM day_totals WHERE host = $1 GROUP BY stream, type, nulls, stage, model, ok`,
  deleteEventsOfSource: 'DELETE FROM events WHERE host = $1 AND source_id = $2',
  deleteRejectsOfSource: 'DELETE FROM rejects WHERE host = $1 AND source_id = $2',
} as const satisfies Record<SqlName, string>;

/**
 * A transaction's day_totals cells in one statement (one round trip however
 * many cells): $2… are the columns of StoreOps.dayKey, then those of
 * StoreOps.dayValues, as arrays; a NULL type is kept as '' with bit 4 of nulls.
 */
export const ADD_DAY_TOTALS = `INSERT INTO day_totals (host, stream, type, day, nulls, stage, model, ok, n, duration_sum, dur_min, dur_max, usd_sum, tok_in, tok_out)
  SELECT $1, c.stream, COALESCE(c.type, ''), c.day, c.nulls | CASE WHEN c.type IS NULL THEN 4 ELSE 0 END, c.stage, c.model, c.ok,
    c.n, c.s, c.mn, c.mx, c.usd, c.tin, c.tout
  FROM unnest($2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::int[], $9::bigint[], $10::float8[],
    $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[])
    AS c(stream, type, day, nulls, stage, model, ok, n, s, mn, mx, usd, tin, tout)
  ON CONFLICT (stream, type, day, host, nulls, stage, model, ok)
  DO UPDATE SET n = day_totals.n + excluded.n, duration_sum = day_totals.duration_sum + excluded.duration_sum,
    dur_min = LEAST(day_totals.dur_min, excluded.dur_min), dur_max = GREATEST(day_totals.dur_max, excluded.dur_max),
    usd_sum = day_totals.usd_sum + excluded.usd_sum, tok_in = day_totals.tok_in + excluded.tok_in, tok_out = day_totals.tok_out + excluded.tok_out`;

/** As ADD_DAY_TOTALS, for issue_costs: the columns of StoreOps.issueKey, then the cost sums, as arrays. */
export const ADD_ISSUE_COSTS = `INSERT INTO issue_costs (host, stream, type, day, nulls, issue, model, usd_sum, tok_in, tok_out)
  SELECT $1, c.stream, COALESCE(c.type, ''), c.day, c.nulls | CASE WHEN c.type IS NULL THEN 4 ELSE 0 END, c.issue, c.model, c.usd, c.tin, c.tout
  FROM unnest($2::text[], $3::text[], $4::bigint[], $5::int[], $6::float8[], $7::text[], $8::float8[], $9::float8[], $10::float8[])
    AS c(stream, type, day, nulls, issue, model, usd, tin, tout)
  ON CONFLICT (stream, type, day, host, nulls, issue, model)
  DO UPDATE SET usd_sum = issue_costs.usd_sum + excluded.usd_sum, tok_in = issue_costs.tok_in + excluded.tok_in, tok_out = issue_costs.tok_out + excluded.tok_out`;

/**
 * dora_pairs' rows (sql/pg/007) of the host's ($1) pipeline events of
 * non-zero issues that `rows` selects (over events e, and t when `from`
 * names a list of issues), each (stream, issue) in the host's log order: as
 * ../statements.ts PAIRS_OF for SQLite, which says how.
 */
const PG_PAIRS_OF = (from: string, rows: string, keep: string): string => `SELECT host, stream, ts_epoch, rank, id, issue,
    CASE WHEN ts_epoch > lead_from THEN lead_from END AS lead_from,
    CASE WHEN fail_rn > COALESCE(ok_rn, 0) AND ts_epoch > fail_at THEN fail_at END AS fail_from
  FROM (SELECT *,
      MAX(ts_epoch) FILTER (WHERE type = '${PIPELINE_STARTED}' AND ts_epoch > 0) OVER pre AS lead_from,
      MAX(rn) FILTER (WHERE type = '${PIPELINE_COMPLETED}' AND ok = 1) OVER pre AS ok_rn,
      MAX(rn) FILTER (WHERE type = '${PIPELINE_COMPLETED}' AND ok = 0 AND ts_epoch > 0) OVER pre AS fail_rn,
      MAX(ts_epoch) FILTER (WHERE type = '${PIPELINE_COMPLETED}' AND ok = 0 AND ts_epoch > 0) OVER pre AS fail_at
    FROM (SELECT e.host, e.stream, e.ts_epoch, e.rank, e.id, e.issue, e.type, ${PG_OK_OF} AS ok, ${keep} AS keep,
        ROW_NUMBER() OVER (PARTITION BY e.stream, e.issue ORDER BY e.ts_epoch, e.rank, e."offset") AS rn
      FROM ${from} WHERE e.host = $1 AND e.issue != 0 AND e.type IN ('${PIPELINE_STARTED}', '${PIPELINE_COMPLETED}') AND ${rows}) x
    WINDOW pre AS (PARTITION BY stream, issue ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) y
  WHERE type = '${PIPELINE_COMPLETED}' AND ok = 1 AND keep
    AND (ts_epoch > lead_from OR (fail_rn > COALESCE(ok_rn, 0) AND ts_epoch > fail_at))`;

/** Issues $3 of stream $2, each from its epoch in $4 on: their pairs go, then come back from the rows there now. */
const PAIR_ISSUES = 'unnest($3::float8[], $4::float8[]) AS t(issue, "from")';
// Newest first with a LIMIT, not MAX(): the planner aggregates every row of the issue for a MAX with a filter, a cost that grows with the log.
const PG_LAST_BEFORE = (type: string, timed: string) => `COALESCE((SELECT b.ts_epoch FROM events b WHERE b.host = $1 AND b.stream = $2
  AND b.issue = t.issue AND b.issue != 0 AND b.type = '${type}'${timed} AND b.ts_epoch < t."from" ORDER BY b.ts_epoch DESC LIMIT 1), t."from")`;
export const CLEAR_ISSUE_PAIRS = `DELETE FROM dora_pairs p USING ${PAIR_ISSUES}
  WHERE p.host = $1 AND p.stream = $2 AND p.issue = t.issue AND p.ts_epoch >= t."from"`;
export const REPAIR_ISSUE_PAIRS = `INSERT INTO dora_pairs ${PG_PAIRS_OF(
  `${PAIR_ISSUES} CROSS JOIN LATERAL (SELECT LEAST(${PG_LAST_BEFORE(PIPELINE_STARTED, ' AND b.ts_epoch > 0')}, ${PG_LAST_BEFORE(PIPELINE_COMPLETED, '')}) AS lo) l
    JOIN events e ON e.issue = t.issue`,
  'e.stream = $2 AND e.ts_epoch >= l.lo', 'e.ts_epoch >= t."from"')}`;
/** Every pair of the host, from its rows: after sql/pg/007. */
export const CLEAR_PAIRS = 'DELETE FROM dora_pairs WHERE host = $1';
export const REBUILD_PAIRS = `INSERT INTO dora_pairs ${PG_PAIRS_OF('events e', 'true', 'true')}`;
export const PAIRS_OF_SOURCE = `SELECT stream, issue, MIN(ts_epoch) AS "from" FROM events
  WHERE host = $1 AND source_id = $2 AND type IN ('${PIPELINE_STARTED}', '${PIPELINE_COMPLETED}') AND issue != 0 GROUP BY stream, issue`;
export const PAIRS_KEPT = 'SELECT stream, ts_epoch, rank, id, issue, lead_from, fail_from FROM dora_pairs WHERE host = $1';
export const PAIRS_FROM_ROWS = `SELECT stream, ts_epoch, rank, id, issue, lead_from, fail_from FROM (${PG_PAIRS_OF('events e', 'true', 'true')}) p`;

/** The statements called with named parameters (as SQLite's @name): their names in the order of $2, $3, … */
export const NAMED_PARAMS: Partial<Record<SqlName, readonly string[]>> = {
  insertSource: ['stream', 'kind', 'path', 'dev', 'ino', 'generation', 'rank', 'head_len', 'head_hash', 'state', 'copy_of', 'now'],
  ownRowBelow: ['src', 'below'],
};

/**
 * A batch of events: COPY, PostgreSQL's fastest way in (measured 2x an
 * INSERT … unnest of the same rows). It has no ON CONFLICT: a row the
 * mirror already holds fails the batch's transaction (unique_violation),
 * which under the host's write lock means a bug, never a retry.
 */
export const COPY_EVENTS = `COPY events (host, source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result,
    duration_s, cost_usd, model, input_tokens, output_tokens, ts_text, line) FROM STDIN`;

/** The first event id with ts_text (sql/pg/009), one value for every host: event ids are one sequence. */
export const TS_TEXT_FROM = "SELECT COALESCE(MAX(value::bigint), 1) AS value FROM meta WHERE key = 'ts_text_from'";

/** One tailer per host and folder: a session lock keyed by both (released when the session ends, even by kill -9). */
export const TRY_TAILER_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('jsonl-mirror tailer' || chr(1) || $1 || chr(1) || $2, 0)) AS ok";
/** Whether some session holds that lock now (pg_locks shows a bigint key as its high and low 32 bits). */
export const TAILER_LOCK_HELD = `SELECT EXISTS (SELECT 1 FROM pg_locks l,
    (SELECT hashtextextended('jsonl-mirror tailer' || chr(1) || $1 || chr(1) || $2, 0) AS k) x
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.classid::bigint = ((x.k >> 32) & 4294967295) AND l.objid::bigint = (x.k & 4294967295)) AS held`;
export const TAILER_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('jsonl-mirror tailer' || chr(1) || $1 || chr(1) || $2, 0))";
/**
 * The SQLite write lock's counterpart: writers of one host take turns, so the
 * checkpoint each re-reads inside its transaction is the last one committed.
 */
export const HOST_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jsonl-mirror write' || chr(1) || $1, 0))";

/**
 * Taken by every transaction before its first event row, held to COMMIT:
 * the fleet's batches allocate ids and commit in turn, so a row's id is its
 * commit order across hosts and the live feed, which follows ids, never
 * passes a row that commits later with a lower one.
 */
export const EVENT_ORDER_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jsonl-mirror event order', 0))";

/** The live feed over every host (the events_id index). */
export const MAX_EVENT_ID = 'SELECT COALESCE(MAX(id), 0) AS id FROM events';
export const EVENTS_AFTER = `SELECT id, host, stream, line, ts_epoch, rank, "offset" FROM events WHERE id > $1 ORDER BY id LIMIT $2`;

/**
 * What moves with every commit of any host: the newest event and reject and
 * the sources' checkpoints (a read's answer can change only when one does).
 */
export const CHANGE_STAMP = `SELECT (SELECT COALESCE(MAX(id), 0) FROM events) || ':' || (SELECT COALESCE(MAX(id), 0) FROM rejects) || ':' ||
  (SELECT COUNT(*) || '/' || COALESCE(MAX(updated_at), '') FROM sources) AS stamp`;
export const LAST_COMMIT = 'SELECT MAX(updated_at) AS at FROM sources';

/** A source's events after an offset, a page at a time (verify reads every line of a source: memory stays flat). */
export const EVENT_OFFSETS_PAGE = `SELECT ${KEPT_LINE} FROM events WHERE host = $1 AND source_id = $2 AND "offset" > $3 ORDER BY "offset" LIMIT $4`;

/** Every host's streams as its sources recorded them at its last ingest (a scrape's fleet series). */
export const FLEET_STREAMS = `SELECT host, stream, COALESCE(SUM(rows), 0) AS rows, COALESCE(SUM(rejects), 0) AS rejects,
    COALESCE(SUM(GREATEST(size - "offset", 0)), 0) AS behind, MAX(updated_at) AS updated_at
  FROM sources GROUP BY host, stream ORDER BY host, stream`;

/** rebuild of one host: everything the host's files gave, gone in its transaction before they are read again (meta stays: it is not from the files). */
export const FORGET_HOST = [
  'DELETE FROM legacy_entries WHERE host = $1',
  'DELETE FROM events WHERE host = $1',
  'DELETE FROM rejects WHERE host = $1',
  'DELETE FROM day_totals WHERE host = $1',
  'DELETE FROM all_totals WHERE host = $1',
  'DELETE FROM issue_costs WHERE host = $1',
  'DELETE FROM dora_pairs WHERE host = $1',
  "DELETE FROM meta WHERE host = $1 AND key = 'pairs_pending'",
  'DELETE FROM sources WHERE host = $1',
] as const;

/** query and export read inside one READ ONLY transaction, in pages through a cursor. */
export const BEGIN_READ_ONLY = 'BEGIN TRANSACTION READ ONLY';
export const ROLLBACK = 'ROLLBACK';
export const declareCursor = (sql: string): string => `DECLARE jsonl_mirror_read NO SCROLL CURSOR FOR ${sql}`;
export const FETCH_PAGE = 'FETCH FORWARD 5000 FROM jsonl_mirror_read';
export const CLOSE_CURSOR = 'CLOSE jsonl_mirror_read';

export const READ_ONLY_SESSION = 'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY';
export const DB_BYTES = 'SELECT pg_database_size(current_database()) AS n';

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
  checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`;
export const MIGRATIONS_APPLIED = 'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version';
export const MIGRATIONS_TABLE_EXISTS = "SELECT to_regclass('schema_migrations') IS NOT NULL AS ok";
export const RECORD_MIGRATION = 'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING';
export const IS_APPLIED = 'SELECT 1 FROM schema_migrations WHERE version = $1';
/** Migrations of concurrent openers take turns. */
export const MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jsonl-mirror migrate', 0))";
