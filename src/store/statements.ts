import { DAY_SECONDS, PIPELINE_COMPLETED, PIPELINE_STARTED, ROLLUP_DAYS, SUCCESS } from '../model/rules.js';
import { EVENT_GROUP } from './api.js';
import type { Database, Statement } from './sqlite-module.js';
/**
 * Every SQL statement the library runs against its own tables, in one place
 * (as Fluent Bit's tail_sql.h), prepared once per connection on first use.
 */
/**
 * What pruning a source would drop, for sources no generation on disk holds
 * the lines of, through any chain of copies (a copytruncate copy compressed later).
 */
const PRUNABLE = `WITH RECURSIVE held(id) AS (
    SELECT copy_of FROM sources WHERE state IN ('active', 'copy') AND copy_of IS NOT NULL
    UNION SELECT p.copy_of FROM sources p JOIN held h ON p.id = h.id WHERE p.copy_of IS NOT NULL)
  SELECT s.id, s.stream, s.path, s.state, s.rows, s.rejects,
    (SELECT COALESCE(SUM(LENGTH(l.line)), 0) FROM lines l WHERE l.source_id = s.id) AS bytes,
    (SELECT MAX(l.ts_epoch) FROM lines l WHERE l.source_id = s.id) AS newest
  FROM sources s WHERE s.kind = 'jsonl' AND s.id NOT IN (SELECT id FROM held)`;

/** An event's UTC day number (model/rules.ts rollupDay) and its success, as day_totals keys them (sql/006). */
export const DAY_OF = (ts: string): string => `CAST(MAX(${ROLLUP_DAYS[0]}, MIN(${ROLLUP_DAYS[1]}, floor(${ts} / ${DAY_SECONDS}.0))) AS INTEGER)`;
export const OK_OF = (result: string): string => `CASE WHEN ${result} = '${SUCCESS}' THEN 1 ELSE 0 END`;

/** A stream and a type by name, as day_totals and event_rows key them (no type is code 0). */
const STREAM_TYPE = 'stream_id = (SELECT id FROM streams WHERE name = ?) AND type_id = COALESCE((SELECT id FROM types WHERE name = ?), 0)';

const TOKENS_OF = (side: 'input' | 'output', e: string): string =>
  `TOTAL(CASE WHEN ${e}cost_usd > 0 OR ${e}input_tokens < 0 OR ${e}output_tokens < 0 THEN 0 ELSE ${e}${side}_tokens END)`;

/** day_totals' values over a group of event_rows rows (`e` their table's prefix), as ingest/day-tally.ts sums them (sql/007). */
export const DAY_VALUES = (e = ''): string =>
  `COUNT(*) AS n, TOTAL(${e}duration_s) AS duration_sum, MIN(COALESCE(${e}duration_s, 0)) AS dur_min, MAX(COALESCE(${e}duration_s, 0)) AS dur_max,
  TOTAL(CASE WHEN ${e}cost_usd > 0 THEN ${e}cost_usd END) AS usd_sum, ${TOKENS_OF('input', e)} AS tok_in, ${TOKENS_OF('output', e)} AS tok_out`;

/** The nulls bits of a row's stage (1) and model (2), as day_totals keeps them. */
const NULLS_OF = (e: string): string => `(CASE WHEN ${e}stage IS NULL THEN 1 ELSE 0 END) | (CASE WHEN ${e}model IS NULL THEN 2 ELSE 0 END)`;

/** The events issue_costs counts (sql/008): a positive cost_usd, or token counts both >= 0 and not both 0. */
const HAS_COST = (e: string): string =>
  `(${e}cost_usd > 0 OR (COALESCE(${e}input_tokens, 0) >= 0 AND COALESCE(${e}output_tokens, 0) >= 0 AND (${e}input_tokens > 0 OR ${e}output_tokens > 0)))`;

/** issue_costs' key past the day, and its values, over a group of event_rows rows that HAS_COST. */
const ISSUE_KEY = (e: string): string =>
  `(CASE WHEN ${e}issue IS NULL THEN 1 ELSE 0 END) | (CASE WHEN ${e}model IS NULL THEN 2 ELSE 0 END), COALESCE(${e}issue, 0), COALESCE(${e}model, '')`;
const ISSUE_VALUES = (e: string): string =>
  `TOTAL(CASE WHEN ${e}cost_usd > 0 THEN ${e}cost_usd END) AS usd_sum, TOTAL(CASE WHEN ${e}cost_usd > 0 THEN 0 ELSE ${e}input_tokens END) AS tok_in,
  TOTAL(CASE WHEN ${e}cost_usd > 0 THEN 0 ELSE ${e}output_tokens END) AS tok_out`;

/** In meta while dora_pairs waits to be filled from the rows (sql/009 sets it, as a bulk load does). */
export const PAIRS_PENDING = 'pairs_pending';
/** The first line id whose event_rows row keeps ts_text (sql/011); none: every row does. */
export const TS_TEXT_FROM = 'ts_text_from';
const STARTED = `(SELECT id FROM types WHERE name = '${PIPELINE_STARTED}')`;
const COMPLETED = `(SELECT id FROM types WHERE name = '${PIPELINE_COMPLETED}')`;
/** One issue of one stream, by name (the ingest's and prune's repairs). */
const ISSUE_OF = 'stream_id = (SELECT id FROM streams WHERE name = @stream) AND issue = @issue';
const LAST_BEFORE = (type: string, timed: string) =>
  `COALESCE((SELECT MAX(ts_epoch) FROM event_rows WHERE ${ISSUE_OF} AND issue != 0 AND type_id = ${type}${timed} AND ts_epoch < @from), @from)`;

/** Every stream, stated so that the table's key (stream, type, …) finds the pipeline rows, not a walk of every event with an issue. */
const EVERY_STREAM = 'stream_id IN (SELECT id FROM streams)';
const BY_KEY = 'INDEXED BY sqlite_autoindex_event_rows_1';

/**
 * dora_pairs' rows (sql/009) of the pipeline events of non-zero issues that
 * `rows` selects, each (stream, issue) in log order: the latest start before
 * a successful completion, and the latest failure since the success before
 * it (row numbers tell which came last), kept when the completion is later.
 * `keep` picks the completions whose rows are written; `index` is the one
 * that finds `rows` fastest, when the planner would not pick it.
 */
const PAIRS_OF = (rows: string, keep: string, index = ''): string => `SELECT stream_id, ts_epoch, rank, id, issue,
    CASE WHEN ts_epoch > lead_from THEN lead_from END AS lead_from,
    CASE WHEN fail_rn > COALESCE(ok_rn, 0) AND ts_epoch > fail_at THEN fail_at END AS fail_from
  FROM (SELECT stream_id, ts_epoch, rank, id, issue, type_id, ok,
      MAX(CASE WHEN type_id = ${STARTED} AND ts_epoch > 0 THEN ts_epoch END) OVER pre AS lead_from,
      MAX(CASE WHEN type_id = ${COMPLETED} AND ok = 1 THEN rn END) OVER pre AS ok_rn,
      MAX(CASE WHEN type_id = ${COMPLETED} AND ok = 0 AND ts_epoch > 0 THEN rn END) OVER pre AS fail_rn,
      MAX(CASE WHEN type_id = ${COMPLETED} AND ok = 0 AND ts_epoch > 0 THEN ts_epoch END) OVER pre AS fail_at
    FROM (SELECT stream_id, ts_epoch, rank, id, issue, type_id, ${OK_OF('result')} AS ok,
        ROW_NUMBER() OVER (PARTITION BY stream_id, issue ORDER BY ts_epoch, rank, id) AS rn
      FROM event_rows ${index} WHERE issue != 0 AND type_id IN (${STARTED}, ${COMPLETED}) AND ${rows})
    WINDOW pre AS (PARTITION BY stream_id, issue ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
  WHERE type_id = ${COMPLETED} AND ok = 1 AND ${keep}
    AND (ts_epoch > lead_from OR (fail_rn > COALESCE(ok_rn, 0) AND ts_epoch > fail_at))`;

/** The statements of the typed operations of store.ts: every engine has each, by these names (pg/statements.ts). */
const SQL = {
  sourceById: 'SELECT * FROM sources WHERE id = ?',
  sourceByInode:
    "SELECT * FROM sources WHERE stream = ? AND dev = ? AND ino = ? AND state IN ('active', 'copy', 'gone') ORDER BY generation DESC LIMIT 1",
  maxGeneration: 'SELECT MAX(generation) AS g FROM sources WHERE stream = ? AND dev = ? AND ino = ?',
  knownSources: "SELECT * FROM sources WHERE stream = ? AND kind = 'jsonl' AND state IN ('active', 'copy', 'gone') ORDER BY rank",
  maxRank: 'SELECT MAX(rank) AS r FROM sources WHERE stream = ?',
  minRankAbove: "SELECT MIN(rank) AS r FROM sources WHERE stream = ? AND kind = 'jsonl' AND state = 'active' AND rank > ?",
  nextRank: "SELECT MIN(rank) AS r FROM sources WHERE stream = ? AND kind = 'jsonl' AND rank > ? AND id <> ?",
  insertSource: `INSERT INTO sources (stream, kind, path, dev, ino, generation, rank, head_len, head_hash, state, copy_of, first_seen, updated_at)
    VALUES (@stream, @kind, @path, @dev, @ino, @generation, @rank, @head_len, @head_hash, @state, @copy_of, @now, @now)`,
  moveSource: 'UPDATE sources SET path = ?, dev = ?, ino = ?, state = ?, updated_at = ? WHERE id = ?',
  setHead: 'UPDATE sources SET head_len = ?, head_hash = ? WHERE id = ?',
  setState: 'UPDATE sources SET state = ?, updated_at = ? WHERE id = ?',
  setRank: 'UPDATE sources SET rank = ? WHERE id = ?',
  deleteSource: 'DELETE FROM sources WHERE id = ?',
  checkpoint: `UPDATE sources SET "offset" = ?, marker_hash = ?, size = ?, rows = rows + ?, rejects = rejects + ?,
    blanks = blanks + ?, updated_at = ? WHERE id = ?`,
  checkpointRead: `UPDATE sources SET "offset" = ?, marker_hash = ?, size = ?, mtime_ms = ?, tail_len = ?, rows = rows + ?,
    rejects = rejects + ?, blanks = blanks + ?, updated_at = ? WHERE id = ?`,
  setSeen: 'UPDATE sources SET size = ?, mtime_ms = ? WHERE id = ?',
  follow: `UPDATE sources SET state = ?, copy_of = ?, held_at = ?, held_len = ?, "offset" = ?, marker_hash = ?, size = ?, mtime_ms = ?,
    updated_at = ? WHERE id = ?`,
  heldCandidates: `SELECT * FROM sources WHERE stream = ? AND kind = 'jsonl' AND id <> ? AND state <> 'copy'
    AND (rows + rejects > 0 OR held_len > 0) ORDER BY id DESC LIMIT 16`,
  continuedFrom: "SELECT 1 AS y FROM sources WHERE copy_of = ? AND state <> 'copy' AND held_at + held_len >= ? LIMIT 1",
  ownRowBelow: `SELECT "offset" FROM lines WHERE source_id = @src AND "offset" < @below
    UNION ALL SELECT "offset" FROM rejects WHERE source_id = @src AND "offset" < @below ORDER BY 1 LIMIT 1`,
  ownEvents: 'SELECT "offset", line FROM lines WHERE source_id = ? AND "offset" >= ? AND "offset" < ? ORDER BY "offset" LIMIT ?',
  ownRejects: `SELECT "offset", hash, length, sample FROM rejects WHERE source_id = ? AND "offset" >= ? AND "offset" < ?
    ORDER BY "offset" LIMIT ?`,
  deleteReject: 'DELETE FROM rejects WHERE source_id = ? AND "offset" = ?',
  insertReject: `INSERT OR IGNORE INTO rejects (source_id, stream, path, "offset", length, reason, sample, at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertLineReject: `INSERT OR IGNORE INTO rejects (source_id, stream, path, "offset", length, reason, sample, at, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertLegacy: 'INSERT INTO legacy_entries (key, event_id) SELECT ?, id FROM lines WHERE source_id = ? AND "offset" = ?',
  legacySource: "SELECT * FROM sources WHERE stream = ? AND kind = 'legacy-costs' AND path = ?",
  legacyTail: 'SELECT line FROM lines WHERE source_id = ? ORDER BY "offset" DESC LIMIT ?',
  legacyCount: 'SELECT COUNT(*) AS n FROM legacy_entries WHERE key > ? AND key < ?',
  maxOffset: 'SELECT MAX("offset") AS o FROM lines WHERE source_id = ?',
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  allSources: 'SELECT * FROM sources ORDER BY stream, rank, id',
  // Prune: sources whose file is gone (or was truncated), unless a generation still on disk holds their lines.
  prunable: `${PRUNABLE} AND s.state IN ('gone', 'replaced') ORDER BY s.stream, s.rank`,
  prunableSource: `${PRUNABLE} AND s.id = ?`,
  // History generations that held a pruned one's lines hold nothing any more (none of them is on disk).
  detachCopies: 'UPDATE sources SET copy_of = NULL, held_at = 0, held_len = 0 WHERE copy_of = ?',
  // The (stream, type, day) groups of day_totals a source's rows fall in: prune recounts them once the rows are gone.
  daysOfSource: `SELECT DISTINCT s.stream, t.name AS type, ${DAY_OF('l.ts_epoch')} AS day
    FROM lines l JOIN sources s ON s.id = l.source_id LEFT JOIN types t ON t.id = l.type_id WHERE l.source_id = ?`,
  clearDay: `DELETE FROM day_totals WHERE ${STREAM_TYPE} AND day = ?`,
  clearIssueDay: `DELETE FROM issue_costs WHERE ${STREAM_TYPE} AND day = ?`,
  recountIssueDay: `INSERT INTO issue_costs SELECT stream_id, type_id, ${DAY_OF('ts_epoch')}, ${ISSUE_KEY('')}, ${ISSUE_VALUES('')}
    FROM event_rows WHERE ${STREAM_TYPE} AND ts_epoch >= ? AND ts_epoch < ? AND ${HAS_COST('')} GROUP BY 3, 4, 5, 6`,
  // A recount, not a subtraction: a least or greatest duration cannot be taken back.
  recountDay: `INSERT INTO day_totals SELECT stream_id, type_id, ${DAY_OF('ts_epoch')}, ${NULLS_OF('')}, COALESCE(stage, ''), COALESCE(model, ''),
      ${OK_OF('result')}, ${DAY_VALUES()}
    FROM event_rows WHERE ${STREAM_TYPE} AND ts_epoch >= ? AND ts_epoch < ? GROUP BY 3, 4, 5, 6, 7`,
  deleteEventsOfSource: `DELETE FROM event_rows WHERE (stream_id, type_id, ts_epoch, rank, id) IN
    (SELECT st.id, l.type_id, l.ts_epoch, s.rank, l.id FROM lines l JOIN sources s ON s.id = l.source_id JOIN streams st ON st.name = s.stream
     WHERE l.source_id = ?)`,
  deleteRejectsOfSource: 'DELETE FROM rejects WHERE source_id = ?',
  liveStreams: "SELECT DISTINCT stream FROM sources WHERE kind = 'jsonl' AND state IN ('active', 'copy') ORDER BY stream",
  rejectsByReason: 'SELECT reason, COUNT(*) AS n FROM rejects GROUP BY reason ORDER BY reason',
  // The line's event row by its whole key (stream, type, time, rank, id); rows before ts_text_from have no ts_text.
  eventOffsets: `SELECT l."offset", l.line, e.id IS NOT NULL AS has_row,
      l.id < COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${TS_TEXT_FROM}'), 1) AS ts_untracked,
      t.name AS type, e.ts_epoch, e.issue, e.stage, e.result, e.duration_s, e.cost_usd, e.model, e.input_tokens, e.output_tokens, e.ts_text
    FROM lines l JOIN sources s ON s.id = l.source_id LEFT JOIN streams st ON st.name = s.stream LEFT JOIN types t ON t.id = l.type_id
    LEFT JOIN event_rows e ON e.stream_id = st.id AND e.type_id = l.type_id AND e.ts_epoch = l.ts_epoch AND e.rank = s.rank AND e.id = l.id
    WHERE l.source_id = ? ORDER BY l."offset"`,
  rejectOffsets: 'SELECT "offset", length FROM rejects WHERE source_id = ? ORDER BY "offset"',
  deleteMeta: 'DELETE FROM meta WHERE key = ?',
  countEvents: 'SELECT COUNT(*) AS n FROM lines',
  countRejects: 'SELECT COUNT(*) AS n FROM rejects',
  dayTotalsKept: `SELECT st.name AS stream, t.name AS type, d.day, CASE WHEN d.nulls & 1 THEN NULL ELSE d.stage END AS stage,
      CASE WHEN d.nulls & 2 THEN NULL ELSE d.model END AS model, d.ok, d.n, d.duration_sum, d.dur_min, d.dur_max, d.usd_sum, d.tok_in, d.tok_out
    FROM day_totals d JOIN streams st ON st.id = d.stream_id LEFT JOIN types t ON t.id = d.type_id`,
  dayTotalsFromRows: `SELECT st.name AS stream, t.name AS type, ${DAY_OF('e.ts_epoch')} AS day, e.stage, e.model, ${OK_OF('e.result')} AS ok, ${DAY_VALUES('e.')}
    FROM event_rows e JOIN streams st ON st.id = e.stream_id LEFT JOIN types t ON t.id = e.type_id
    GROUP BY e.stream_id, e.type_id, 3, e.stage, e.model, 6`,
  issueCostsKept: `SELECT st.name AS stream, t.name AS type, c.day, CASE WHEN c.nulls & 1 THEN NULL ELSE c.issue END AS issue,
      CASE WHEN c.nulls & 2 THEN NULL ELSE c.model END AS model, c.usd_sum, c.tok_in, c.tok_out
    FROM issue_costs c JOIN streams st ON st.id = c.stream_id LEFT JOIN types t ON t.id = c.type_id`,
  issueCostsFromRows: `SELECT st.name AS stream, t.name AS type, ${DAY_OF('e.ts_epoch')} AS day, e.issue, e.model, ${ISSUE_VALUES('e.')}
    FROM event_rows e JOIN streams st ON st.id = e.stream_id LEFT JOIN types t ON t.id = e.type_id
    WHERE ${HAS_COST('e.')} GROUP BY e.stream_id, e.type_id, 3, e.issue, e.model`,
  // all_totals (sql/008) against the day_totals it sums, by the same key names as dayTotalsKept (day 0).
  allTotalsKept: `SELECT st.name AS stream, t.name AS type, 0 AS day, CASE WHEN a.nulls & 1 THEN NULL ELSE a.stage END AS stage,
      CASE WHEN a.nulls & 2 THEN NULL ELSE a.model END AS model, a.ok, a.n, a.duration_sum, a.inexact
    FROM all_totals a JOIN streams st ON st.id = a.stream_id LEFT JOIN types t ON t.id = a.type_id`,
  allTotalsFromDays: `SELECT st.name AS stream, t.name AS type, 0 AS day, CASE WHEN d.nulls & 1 THEN NULL ELSE d.stage END AS stage,
      CASE WHEN d.nulls & 2 THEN NULL ELSE d.model END AS model, d.ok, SUM(d.n) AS n, TOTAL(d.duration_sum) AS duration_sum
    FROM day_totals d JOIN streams st ON st.id = d.stream_id LEFT JOIN types t ON t.id = d.type_id
    GROUP BY d.stream_id, d.type_id, d.nulls, d.stage, d.model, d.ok`,
  migrationsApplied: 'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
} as const;

/**
 * SQLite's own: the name codes of streams and types (names.ts), each line kept
 * apart from its event row (event-inserts.ts), and the feed and day totals
 * over those (SqliteStore); another engine stores these its own way.
 */
const SQLITE_SQL = {
  insertLine: 'INSERT OR IGNORE INTO lines (source_id, "offset", type_id, ts_epoch, line) VALUES (?, ?, ?, ?, ?)',
  insertEventRow: `INSERT INTO event_rows (stream_id, type_id, ts_epoch, rank, id, issue, stage, result, duration_s, cost_usd, model,
    input_tokens, output_tokens, ts_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  streamId: 'SELECT id FROM streams WHERE name = ?',
  addStream: 'INSERT INTO streams (name) VALUES (?)',
  allStreams: 'SELECT id, name FROM streams ORDER BY name',
  typeId: 'SELECT id FROM types WHERE name = ?',
  addType: 'INSERT INTO types (name) VALUES (?)',
  typeName: 'SELECT name FROM types WHERE id = ?',
  // A type t and its subtypes t.* (model/rules.ts typeMatches), as one range of the names.
  typesUnder: 'SELECT id FROM types WHERE name >= ? AND name < ? AND (name = ? OR name >= ?)',
  deleteLinesOfSource: 'DELETE FROM lines WHERE source_id = ?',
  addDayTotal: `INSERT INTO day_totals (stream_id, type_id, day, nulls, stage, model, ok, n, duration_sum, dur_min, dur_max, usd_sum, tok_in, tok_out)
    VALUES ((SELECT id FROM streams WHERE name = ?), COALESCE((SELECT id FROM types WHERE name = ?), 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (stream_id, type_id, day, nulls, stage, model, ok) DO UPDATE SET n = n + excluded.n, duration_sum = duration_sum + excluded.duration_sum,
      dur_min = min(dur_min, excluded.dur_min), dur_max = max(dur_max, excluded.dur_max), usd_sum = usd_sum + excluded.usd_sum,
      tok_in = tok_in + excluded.tok_in, tok_out = tok_out + excluded.tok_out`,
  addIssueCost: `INSERT INTO issue_costs (stream_id, type_id, day, nulls, issue, model, usd_sum, tok_in, tok_out)
    VALUES ((SELECT id FROM streams WHERE name = ?), COALESCE((SELECT id FROM types WHERE name = ?), 0), ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (stream_id, type_id, day, nulls, issue, model) DO UPDATE SET usd_sum = usd_sum + excluded.usd_sum,
      tok_in = tok_in + excluded.tok_in, tok_out = tok_out + excluded.tok_out`,
  // One issue's pairs from epoch @from on. The rows read start at its last start and last completion before @from: what the pairing there depends on.
  clearIssuePairs: `DELETE FROM dora_pairs WHERE ${ISSUE_OF} AND ts_epoch >= @from`,
  repairIssuePairs: `INSERT INTO dora_pairs ${PAIRS_OF(
    `${ISSUE_OF} AND ts_epoch >= MIN(${LAST_BEFORE(STARTED, ' AND ts_epoch > 0')}, ${LAST_BEFORE(COMPLETED, '')})`, 'ts_epoch >= @from')}`,
  clearPairs: 'DELETE FROM dora_pairs',
  rebuildPairs: `INSERT INTO dora_pairs ${PAIRS_OF(EVERY_STREAM, '1', BY_KEY)}`,
  // The issues whose pairs a source's rows take part in, each from its earliest such row: prune repairs them once the rows are gone.
  pairsOfSource: `SELECT s.stream, e.issue, MIN(e.ts_epoch) AS "from" FROM lines l JOIN sources s ON s.id = l.source_id
      JOIN streams st ON st.name = s.stream
      JOIN event_rows e ON e.stream_id = st.id AND e.type_id = l.type_id AND e.ts_epoch = l.ts_epoch AND e.rank = s.rank AND e.id = l.id
    WHERE l.source_id = ? AND l.type_id IN (${STARTED}, ${COMPLETED}) AND e.issue != 0 GROUP BY s.stream, e.issue`,
  pairsKept: `SELECT st.name AS stream, p.ts_epoch, p.rank, p.id, p.issue, p.lead_from, p.fail_from
    FROM dora_pairs p JOIN streams st ON st.id = p.stream_id`,
  pairsFromRows: `SELECT st.name AS stream, p.ts_epoch, p.rank, p.id, p.issue, p.lead_from, p.fail_from
    FROM (${PAIRS_OF(EVERY_STREAM, '1', BY_KEY)}) p JOIN streams st ON st.id = p.stream_id`,
  maxEventId: 'SELECT COALESCE(MAX(id), 0) AS id FROM lines',
  eventsAfter: `SELECT l.id, s.stream, l.line, l.ts_epoch, s.rank, l."offset" FROM lines l JOIN sources s ON s.id = l.source_id
    WHERE l.id > ? ORDER BY l.id LIMIT ?`,
} as const;

/** A statement every engine runs (StatementSet). */
export type SqlName = keyof typeof SQL;
export type SqliteSqlName = SqlName | keyof typeof SQLITE_SQL;
const SQLITE_ALL: Record<SqliteSqlName, string> = { ...SQL, ...SQLITE_SQL };

/** Schema bookkeeping, run by migrations.ts before the named statements can be trusted. */
export const MIGRATIONS_TABLE_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
export const MIGRATIONS_RECORDED = 'SELECT version, name, checksum FROM schema_migrations ORDER BY version';
export const MIGRATIONS_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)';
export const RECORD_MIGRATION = 'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)';
export const IS_APPLIED = 'SELECT 1 FROM schema_migrations WHERE version = ?';

/** Moves whenever another connection commits to the database (never for this connection's own commits). */
export const DATA_VERSION = 'PRAGMA data_version';

/** Whose file is it (ownership.ts): its tables, and the first migration a mirror of ours recorded. */
export const TABLE_NAMES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
export const FIRST_MIGRATION = 'SELECT name FROM schema_migrations WHERE version = 1';

/** Connection settings (pragmas) the SQLite store applies. */
export const PRAGMA = {
  applicationId: 'application_id',
  journalMode: 'journal_mode',
  walPassive: 'wal_checkpoint(PASSIVE)',
  wal: 'journal_mode = WAL',
  synchronousNormal: 'synchronous = NORMAL',
  queryOnly: 'query_only = ON',
  quickCheck: 'quick_check',
  integrityCheck: 'integrity_check',
  walTruncate: 'wal_checkpoint(TRUNCATE)',
  synchronousOff: 'synchronous = OFF',
  // Each automatic checkpoint fsyncs WAL and file; every 10,000 pages (~40 MB of WAL) instead of 1,000: +15-40% per-event commits (DESIGN-15 2c).
  walAutocheckpoint: 'wal_autocheckpoint = 10000',
} as const;

/**
 * The secondary indexes of `event_rows`, exactly as sql/005 creates them:
 * what a bulk load drops and builds again at its end (bulk.ts). The
 * identity index of `lines` stays: it is what makes a line exactly one row.
 */
export const SECONDARY_INDEXES = {
  event_rows_log_order: 'CREATE INDEX event_rows_log_order ON event_rows(stream_id, ts_epoch, rank, id)',
  event_rows_issue: 'CREATE INDEX event_rows_issue ON event_rows(stream_id, issue, ts_epoch, rank, id) WHERE issue != 0',
  event_rows_odd_tokens: 'CREATE INDEX event_rows_odd_tokens ON event_rows(stream_id, type_id, ts_epoch) WHERE input_tokens < 0 OR output_tokens < 0',
} as const;
export type SecondaryIndex = keyof typeof SECONDARY_INDEXES;
export const indexExists = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?";
export const dropIndex = (name: SecondaryIndex): string => `DROP INDEX IF EXISTS ${name}`;

const rowsOf = (sql: string, columns: number): string =>
  sql.replace(/VALUES \(.*\)$/s, () => `VALUES ${Array.from({ length: EVENT_GROUP }, () => `(${Array.from({ length: columns }, () => '?').join(', ')})`).join(', ')}`);
export const INSERT_LINE_GROUP = rowsOf(SQLITE_SQL.insertLine, 5);
export const INSERT_EVENT_ROW_GROUP = rowsOf(SQLITE_SQL.insertEventRow, 14);

/** SQLite's StatementSet: each named statement prepared once per connection, on first use. */
export class Statements {
  private readonly cache = new Map<SqliteSqlName, Statement>();
  /** Run before a transaction or savepoint begins and before it ends (writes held back by the store), and when one fails. */
  hooks = { settle: (): void => {}, failed: (): void => {} };
  constructor(private readonly db: Database) {}

  stmt(name: SqliteSqlName): Statement {
    let stmt = this.cache.get(name);
    if (!stmt) {
      stmt = this.db.prepare(SQLITE_ALL[name]);
      this.cache.set(name, stmt);
    }
    return stmt;
  }

  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
    // IMMEDIATE: take the write lock at BEGIN, so a checkpoint re-read inside is the last committed one.
    const txn = this.db.transaction((...a: A): R => {
      const out = fn(...a);
      this.hooks.settle();
      return out;
    }, 'immediate');
    return (...a: A): R => {
      this.hooks.settle();
      try {
        return txn(...a);
      } catch (err) {
        this.hooks.failed();
        throw err;
      }
    };
  }

  close(): void {
    this.db.close();
  }
}
