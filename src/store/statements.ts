import { STAGE_COMPLETED } from '../model/rules.js';
import type { Database, Statement } from './sqlite-module.js';
/**
 * Every SQL statement the library runs against its own tables, in one place
 * (as Fluent Bit's tail_sql.h), prepared once per connection on first use.
 */
const SQL = {
  sourceById: 'SELECT * FROM sources WHERE id = ?',
  sourceByInode:
    "SELECT * FROM sources WHERE stream = ? AND dev = ? AND ino = ? AND state IN ('active', 'copy', 'gone') ORDER BY generation DESC LIMIT 1",
  maxGeneration: 'SELECT MAX(generation) AS g FROM sources WHERE stream = ? AND dev = ? AND ino = ?',
  knownSources: "SELECT * FROM sources WHERE stream = ? AND kind = 'jsonl' AND state IN ('active', 'copy', 'gone') ORDER BY rank",
  maxRank: 'SELECT MAX(rank) AS r FROM sources WHERE stream = ?',
  minRankAbove: "SELECT MIN(rank) AS r FROM sources WHERE stream = ? AND kind = 'jsonl' AND state = 'active' AND rank > ?",
  insertSource: `INSERT INTO sources (stream, kind, path, dev, ino, generation, rank, head_len, head_hash, state, copy_of, first_seen, updated_at)
    VALUES (@stream, @kind, @path, @dev, @ino, @generation, @rank, @head_len, @head_hash, @state, @copy_of, @now, @now)`,
  moveSource: 'UPDATE sources SET path = ?, dev = ?, ino = ?, state = ?, updated_at = ? WHERE id = ?',
  setHead: 'UPDATE sources SET head_len = ?, head_hash = ? WHERE id = ?',
  setState: 'UPDATE sources SET state = ?, updated_at = ? WHERE id = ?',
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
  ownRowBelow: `SELECT "offset" FROM events WHERE source_id = @src AND "offset" < @below
    UNION ALL SELECT "offset" FROM rejects WHERE source_id = @src AND "offset" < @below ORDER BY 1 LIMIT 1`,
  ownEvents: 'SELECT "offset", line FROM events WHERE source_id = ? AND "offset" >= ? AND "offset" < ? ORDER BY "offset" LIMIT ?',
  ownRejects: `SELECT "offset", hash, length, sample FROM rejects WHERE source_id = ? AND "offset" >= ? AND "offset" < ?
    ORDER BY "offset" LIMIT ?`,
  deleteReject: 'DELETE FROM rejects WHERE source_id = ? AND "offset" = ?',
  insertEvent: `INSERT OR IGNORE INTO events (source_id, "offset", stream, rank, type, ts_epoch, issue, stage, result,
    duration_s, cost_usd, model, input_tokens, output_tokens, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertReject: `INSERT OR IGNORE INTO rejects (source_id, stream, path, "offset", length, reason, sample, at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertLineReject: `INSERT OR IGNORE INTO rejects (source_id, stream, path, "offset", length, reason, sample, at, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertLegacy: 'INSERT INTO legacy_entries (key, event_id) SELECT ?, id FROM events WHERE source_id = ? AND "offset" = ?',
  legacySource: "SELECT * FROM sources WHERE stream = ? AND kind = 'legacy-costs' AND path = ?",
  legacyTail: 'SELECT line FROM events WHERE source_id = ? ORDER BY "offset" DESC LIMIT ?',
  legacyCount: 'SELECT COUNT(*) AS n FROM legacy_entries WHERE key > ? AND key < ?',
  maxOffset: 'SELECT MAX("offset") AS o FROM events WHERE source_id = ?',
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  allSources: 'SELECT * FROM sources ORDER BY stream, rank',
  // Prune: sources whose file is gone (or was truncated), unless a copytruncate copy still holds their lines.
  prunable: `SELECT s.id, s.stream, s.path, s.state, s.rows, s.rejects,
      (SELECT COALESCE(SUM(LENGTH(e.line)), 0) FROM events e WHERE e.source_id = s.id) AS bytes,
      (SELECT MAX(e.ts_epoch) FROM events e WHERE e.source_id = s.id) AS newest
    FROM sources s WHERE s.kind = 'jsonl' AND s.state IN ('gone', 'replaced')
      AND NOT EXISTS (SELECT 1 FROM sources c WHERE c.copy_of = s.id) ORDER BY s.stream, s.rank`,
  stageTotalsOfSource: `SELECT stream, stage, COUNT(*) AS n, TOTAL(duration_s) AS duration_sum FROM events
    WHERE source_id = ? AND type = '${STAGE_COMPLETED}' AND stage IS NOT NULL GROUP BY stream, stage`,
  subtractStageTotal: 'UPDATE stage_totals SET n = n - ?, duration_sum = duration_sum - ? WHERE stream = ? AND stage = ?',
  dropEmptyStageTotals: 'DELETE FROM stage_totals WHERE n <= 0',
  deleteEventsOfSource: 'DELETE FROM events WHERE source_id = ?',
  deleteRejectsOfSource: 'DELETE FROM rejects WHERE source_id = ?',
  liveStreams: "SELECT DISTINCT stream FROM sources WHERE kind = 'jsonl' AND state IN ('active', 'copy') ORDER BY stream",
  rejectsByReason: 'SELECT reason, COUNT(*) AS n FROM rejects GROUP BY reason ORDER BY reason',
  eventOffsets: 'SELECT "offset", line FROM events WHERE source_id = ? ORDER BY "offset"',
  rejectOffsets: 'SELECT "offset", length FROM rejects WHERE source_id = ? ORDER BY "offset"',
  deleteMeta: 'DELETE FROM meta WHERE key = ?',
  countEvents: 'SELECT COUNT(*) AS n FROM events',
  countRejects: 'SELECT COUNT(*) AS n FROM rejects',
  stageTotalsKept: 'SELECT stream, stage, n, duration_sum FROM stage_totals',
  stageTotalsFromRows: `SELECT stream, stage, COUNT(*) AS n, TOTAL(duration_s) AS duration_sum FROM events
    WHERE type = 'stage.completed' AND stage IS NOT NULL GROUP BY stream, stage`,
  migrationsApplied: 'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  addStageTotal: `INSERT INTO stage_totals (stream, stage, n, duration_sum) VALUES (?, ?, ?, ?)
    ON CONFLICT (stream, stage) DO UPDATE SET n = n + excluded.n, duration_sum = duration_sum + excluded.duration_sum`,
  maxEventId: 'SELECT COALESCE(MAX(id), 0) AS id FROM events',
  eventsAfter: `SELECT id, stream, line, ts_epoch, rank, "offset" FROM events WHERE id > ? ORDER BY id LIMIT ?`,
} as const;

export type SqlName = keyof typeof SQL;


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
 * The secondary indexes of `events`, exactly as sql/001 and sql/004 create
 * them: what a bulk load drops and builds again at its end (bulk.ts). The
 * identity index stays: it is what makes a line exactly one row.
 */
export const SECONDARY_INDEXES = {
  events_type_time: `CREATE INDEX events_type_time ON events(stream, type, ts_epoch, rank, "offset", stage, result, duration_s, issue, model,
  cost_usd, input_tokens, output_tokens)`,
  events_log_order: 'CREATE INDEX events_log_order ON events(stream, ts_epoch, rank, "offset")',
  events_issue: 'CREATE INDEX events_issue ON events(stream, issue, ts_epoch, rank, "offset") WHERE issue != 0',
} as const;
export type SecondaryIndex = keyof typeof SECONDARY_INDEXES;
export const indexExists = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?";
export const dropIndex = (name: SecondaryIndex): string => `DROP INDEX IF EXISTS ${name}`;

/**
 * Rows per multi-row INSERT in a batch of the ingest: one statement for 25
 * rows instead of 25 cuts N-API calls and statement resets (+12% measured in
 * DESIGN-15 2a; 50 gains no more).
 */
export const EVENT_GROUP = 25;
export const INSERT_EVENT_GROUP = SQL.insertEvent.replace(/VALUES \(.*\)$/s, () =>
  `VALUES ${Array.from({ length: EVENT_GROUP }, () => `(${Array.from({ length: 15 }, () => '?').join(', ')})`).join(', ')}`);

/** SQLite's StatementSet: each named statement prepared once per connection, on first use. */
export class Statements {
  private readonly cache = new Map<SqlName, Statement>();
  constructor(private readonly db: Database) {}

  stmt(name: SqlName): Statement {
    let stmt = this.cache.get(name);
    if (!stmt) {
      stmt = this.db.prepare(SQL[name]);
      this.cache.set(name, stmt);
    }
    return stmt;
  }

  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
    // IMMEDIATE: take the write lock at BEGIN, so a checkpoint re-read inside is the last committed one.
    return this.db.transaction(fn).immediate;
  }

  close(): void {
    this.db.close();
  }
}
