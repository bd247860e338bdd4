import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MirrorError, sqliteCode, option } from '../errors.js';
import { enterBulkLoad, finishIndexes, INDEXES_PENDING, leaveBulkLoad } from './bulk.js';
import { checkSchema, migrate } from './migrations.js';
import { checkDbPath, markOurs, ownershipOf, type Ownership } from './ownership.js';
import { EventInserts } from './event-inserts.js';
import { decodeLine } from '../model/line-tokens.js';
import { NameCodes } from './names.js';
import {
  eventsSql, exportByTimeSql, exportSourceSql, feedCountSql, feedPageSql, groupsSql, pairTotalsSql, recordsSql, withoutIndexHints, type FeedPosition,
} from './read-sql.js';
import type { DayTotal, DoraPair, EventFields, EventRow, FeedRow, IssueCost, PairRef } from './rows.js';
import type { PairTotals } from '../model/query.js';
import { sqliteReadQuery, type AdHocStatement } from './ad-hoc.js';
import type { BulkLoad, ExportQuery, FeedEntry, FeedPosition as AnyFeedPosition, QueryRows, Store } from './api.js';
import { loadSqlite, type Database, type Statement } from './sqlite-module.js';
import { DATA_VERSION, PAIRS_PENDING, PRAGMA, Statements, TS_TEXT_FROM } from './statements.js';
import { dayKey, dayValues, issueKey, StoreOps, withWrittenTs } from './store.js';

export interface OpenOptions {
  /** Open without writing: no migrations, no WAL switch; fails when the file is missing. */
  readonly?: boolean;
  /** How long a statement waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Fail with DB_MISSING instead of creating a new mirror. */
  mustExist?: boolean;
}

type Shape = { sql: string; params: unknown[] };
type Mode = 'rows' | 'raw' | 'pluck';

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The SQLite mirror: the shared typed operations plus what only a local file has (checks, backup, query shapes). */
export class SqliteStore extends StoreOps implements Store {
  readonly engine = 'sqlite';
  /** INSERT OR IGNORE reports a held line as no change (event-inserts.ts). */
  readonly insertSaysHeld = true;
  readonly codesLines = true;
  readonly bulkLoad: BulkLoad = {
    enter: () => this.enterBulkLoad(),
    leave: () => this.leaveBulkLoad(),
    finishIndexes: () => this.finishIndexes(),
    checkInterrupted: () => this.checkInterruptedLoad(),
  };
  /** Query shapes of read-sql.ts, one statement per shape and mode: a mode is set once, never flipped on a shared statement. */
  private readonly shapes = new Map<string, Statement>();
  /** The inode of the file opened at `path` (the watchdog compares it with what the path names now). */
  private readonly ino: number;
  private readonly sql: Statements;
  private readonly names: NameCodes;
  private readonly inserts: EventInserts;

  constructor(
    private readonly db: Database,
    path: string,
    readonly: boolean,
    schemaVersion: number,
    private readonly cleanup?: () => void,
  ) {
    const sql = new Statements(db);
    super(sql, path, readonly, schemaVersion);
    this.sql = sql;
    this.names = new NameCodes(sql);
    this.inserts = new EventInserts(db, sql, this.names);
    // A failed transaction took its held rows with it, and any name code it added.
    sql.hooks = {
      settle: () => this.inserts.flush(),
      failed: () => {
        this.inserts.drop();
        this.names.forget();
      },
    };
    this.ino = statSync(path).ino;
  }

  protected override lineText(stored: string): string {
    return decodeLine(stored);
  }

  /** The event's line once (token-coded) and its columns, keyed by its codes; false when its (source, offset) is mirrored already. */
  insertEvent(r: EventRow): boolean {
    return this.inserts.insert(r);
  }

  protected override deleteLinesOfSource(id: number): void {
    this.sql.stmt('deleteLinesOfSource').run(id);
  }

  maxEventId(): number {
    return (this.sql.stmt('maxEventId').get() as { id: number }).id;
  }

  eventsAfter(id: number, limit: number): FeedRow[] {
    const rows = this.sql.stmt('eventsAfter').all(id, limit) as FeedRow[];
    for (const r of rows) r.line = decodeLine(r.line);
    return rows;
  }

  addDayTotals(cells: Iterable<DayTotal>): void {
    const add = this.sql.stmt('addDayTotal');
    for (const t of cells) add.run(...dayKey(t), ...dayValues(t));
  }

  addIssueCosts(cells: Iterable<IssueCost>): void {
    const add = this.sql.stmt('addIssueCost');
    for (const c of cells) add.run(...issueKey(c), c.usd_sum, c.tok_in, c.tok_out);
  }

  repairPairs(refs: Iterable<PairRef>): void {
    if (this.pairsPending()) return;
    // The statements read event_rows: the rows this transaction holds back go in first.
    this.inserts.flush();
    const clear = this.sql.stmt('clearIssuePairs');
    const repair = this.sql.stmt('repairIssuePairs');
    for (const r of refs) {
      clear.run(r);
      repair.run(r);
    }
  }

  private readonly rebuildPairs = (): void => {
    this.sql.stmt('clearPairs').run();
    this.sql.stmt('rebuildPairs').run();
    this.deleteMeta(PAIRS_PENDING);
  };

  /** dora_pairs from every row, once the indexes are there (after sql/009, after a bulk load); a no-op when it is current. */
  finishPairs(): void {
    if (this.pairsPending() && !this.indexesPending()) this.transaction(this.rebuildPairs)();
  }

  pairsOfSource(sourceId: number): PairRef[] {
    return this.sql.stmt('pairsOfSource').all(sourceId) as PairRef[];
  }

  pairsKept(): DoraPair[] {
    return this.sql.stmt('pairsKept').all() as DoraPair[];
  }

  pairsFromRows(): DoraPair[] {
    return this.sql.stmt('pairsFromRows').all() as DoraPair[];
  }

  pairTotals(q: Parameters<typeof pairTotalsSql>[0]): PairTotals | undefined {
    if (this.pairsPending()) return undefined;
    const s = pairTotalsSql(q, this.names);
    const [streams, leads, leadSeconds, restores, restoreSeconds] = this.shape(s, 'raw').get(...s.params) as number[];
    return streams! > 1 ? undefined : { leads: leads!, leadSeconds: leadSeconds!, restores: restores!, restoreSeconds: restoreSeconds! };
  }

  /** Names the `type` codes of rows read from event_rows. */
  private named<T extends { type?: unknown }>(rows: T[]): T[] {
    if (rows.length > 0 && 'type' in rows[0]!) for (const r of rows) r.type = this.names.typeName(r.type as number);
    return rows;
  }

  movedOnDisk(): boolean {
    return statSync(this.path, { throwIfNoEntry: false })?.ino !== this.ino;
  }

  /** The database file and its WAL as stat sees them: the WAL moves with each commit, the file with each checkpoint. */
  changeStamp(): string {
    return this.files().map((st) => (st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-')).join('|');
  }

  /** When the database file or its WAL was last written, whichever was later (epoch seconds). */
  lastCommitSeconds(): number | null {
    const times = this.files().flatMap((st) => (st ? [st.mtimeMs] : []));
    return times.length === 0 ? null : Math.max(...times) / 1000;
  }

  /** The database file and its WAL. */
  dbBytes(): number {
    return fileSize(this.path) + fileSize(`${this.path}-wal`);
  }

  private files() {
    return [this.path, `${this.path}-wal`].map((p) => statSync(p, { throwIfNoEntry: false }));
  }

  private dataVersionStmt: Statement | undefined;

  override dataVersion(): number {
    return (this.dataVersionStmt ??= this.db.prepare(DATA_VERSION, 'pluck')).get() as number;
  }

  /** Closing twice is harmless (rebuild closes on success and again on the way out). */
  override close(): void {
    if (this.db.open) super.close();
    this.cleanup?.();
  }

  private shape(s: Shape, mode: Mode): Statement {
    // A hint naming an index a bulk load dropped would fail to prepare; without it the plan is slower but the answer the same.
    const sql = this.indexesPending() ? withoutIndexHints(s.sql) : s.sql;
    const key = `${mode}\0${sql}`;
    let stmt = this.shapes.get(key);
    if (!stmt) {
      stmt = this.db.prepare(sql, mode);
      this.shapes.set(key, stmt);
    }
    return stmt;
  }

  events(q: Parameters<typeof eventsSql>[0]): EventFields[] {
    const s = eventsSql(q, this.names, this.tsTextFrom());
    return withWrittenTs(this.named(this.shape(s, 'rows').all(...s.params) as EventFields[]), decodeLine);
  }

  private tsFrom: number | undefined;
  /** Fixed once the mirror is open: only a migration sets it. */
  private tsTextFrom(): number {
    return (this.tsFrom ??= Number(this.getMeta(TS_TEXT_FROM) ?? 1));
  }

  /** Group rows as arrays: the group keys, then count and sum. */
  groups(q: Parameters<typeof groupsSql>[0]): unknown[][] {
    const s = groupsSql(q, this.names);
    return this.shape(s, 'raw').all(...s.params) as unknown[][];
  }

  feedCount(q: Parameters<typeof feedCountSql>[0]): number {
    const s = feedCountSql(q, this.names);
    return (this.shape(s, 'rows').get(...s.params) as { n: number }).n;
  }

  /** How SQLite will run a read (EXPLAIN QUERY PLAN), one line per step: what tests check the indexes with. */
  explain(read: 'events' | 'groups' | 'feedCount' | 'feedPage' | 'records', q: never): string[] {
    const build = { events: eventsSql, groups: groupsSql, feedCount: feedCountSql, feedPage: feedPageSql, records: recordsSql }[read];
    const s = (build as (q: unknown, codes: NameCodes) => { sql: string; params: unknown[] })(q, this.names);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).all(...s.params) as { detail: string }[]).map((r) => r.detail);
  }

  /** A page of the feed, newest first; each row's position is where the next page starts. */
  feedPage(q: Parameters<typeof feedPageSql>[0], after?: AnyFeedPosition): FeedEntry[] {
    // A position this store returned: [ts_epoch, stream, rank, id] (read-sql.ts).
    const s = feedPageSql(q, this.names, after as FeedPosition | undefined);
    const streams = new Map(this.names.knownStreams(q.streams).map((c) => [c.id, c.name]));
    const rows = this.shape(s, 'raw').all(...s.params) as [string, number, number, number, number][];
    return rows.map(([line, ts, stream, rank, id]) => ({ line: decodeLine(line), position: [ts, streams.get(stream)!, rank, id] }));
  }

  records(q: Parameters<typeof recordsSql>[0]): (EventFields & { line: string })[] {
    const s = recordsSql(q, this.names, this.tsTextFrom());
    const rows = withWrittenTs(this.named(this.shape(s, 'rows').all(...s.params) as (EventFields & { line: string })[]), decodeLine);
    for (const r of rows) r.line = decodeLine(r.line);
    return q.last === undefined ? rows : rows.reverse();
  }

  /** The original lines of the mirrored events, streamed. */
  *exportLines(q: ExportQuery): Generator<string> {
    if (q.sort === 'time') {
      const s = exportByTimeSql(q, this.names);
      for (const line of this.shape(s, 'pluck').iterate(...s.params) as IterableIterator<string>) yield decodeLine(line);
      return;
    }
    // File order: each source (oldest rotated file first) along its identity index, never one sort of every line.
    const s = exportSourceSql(q);
    const stmt = this.shape(s, 'pluck');
    const streams = q.streams?.length ? new Set(q.streams) : undefined;
    const sources = this.allSources().filter((src) => !streams || streams.has(src.stream));
    for (const src of sources) {
      for (const line of stmt.iterate(src.id, ...s.params) as IterableIterator<string>) yield decodeLine(line);
    }
  }

  override insertEventGroup(rows: readonly EventRow[]): boolean {
    return this.inserts.insertGroup(rows);
  }

  /** Whether a bulk load dropped the secondary indexes and has not built them again (bulk.ts). */
  indexesPending(): boolean {
    return this.getMeta(INDEXES_PENDING) !== undefined;
  }

  /** Drops the secondary indexes (flag set first) and loads without fsync on this connection. */
  enterBulkLoad(): void {
    enterBulkLoad(this.db, this);
    this.inserts.sortRows(true);
  }

  /** Restores synchronous = NORMAL, leaving the indexes pending (an interrupted load). */
  leaveBulkLoad(): void {
    this.inserts.sortRows(false);
    leaveBulkLoad(this.db);
  }

  /** Builds the pending indexes, clears the flag and checkpoints; a no-op for indexes already there. */
  finishIndexes(): void {
    this.inserts.sortRows(false);
    finishIndexes(this.db, this);
    this.finishPairs();
  }

  /**
   * Another process's bulk load was interrupted: it ran without fsync, so
   * after an OS crash the file may be damaged. Check it before building on
   * it; a damaged mirror fails as DB_CORRUPT, which a writing command moves
   * aside and rebuilds from the files.
   */
  checkInterruptedLoad(): void {
    const problem = this.quickCheck();
    if (problem !== 'ok') {
      throw new MirrorError('DB_CORRUPT', `${this.path} failed its check after an interrupted bulk import (${problem}); move it aside and run \`jsonl-mirror import\` to rebuild it from the logs`);
    }
  }

  /** PRAGMA quick_check: 'ok', or the first problem found. */
  quickCheck(): string {
    return (this.db.pragmaValue(PRAGMA.quickCheck) as string | undefined) ?? 'ok';
  }

  /** PRAGMA integrity_check: every problem found (['ok'] when none). */
  integrityCheck(): string[] {
    return (this.db.pragma(PRAGMA.integrityCheck) as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /** Refuse every write on this connection from now on. */
  queryOnly(): void {
    this.db.pragma(PRAGMA.queryOnly);
  }

  /** Move the WAL's pages into the main file and empty the WAL. */
  walCheckpoint(): void {
    this.db.pragma(PRAGMA.walTruncate);
  }

  /** Replaces the database at `dest` with this one, in one step its other connections see whole (SQLite's online backup or the driver's equivalent). */
  async backupTo(dest: string): Promise<void> {
    await this.db.backupTo(dest);
  }

  readQuery(sql: string, params: unknown[]): QueryRows {
    return sqliteReadQuery((text) => this.adHoc(text), sql, params);
  }

  /** Prepares a user's statement (SQL errors throw as SQLite reports them). */
  private adHoc(sql: string): AdHocStatement {
    const stmt = this.db.prepare(sql);
    return {
      writes: !stmt.readonly,
      returnsRows: stmt.reader,
      columns: () => stmt.columns().map((c) => c.name),
      iterate: (params) => stmt.iterate(...params) as IterableIterator<Record<string, unknown>>,
    };
  }
}

/** Turns what SQLite and the OS say into a message that names the fix. */
export function translateOpenError(err: unknown, path: string): unknown {
  if (err instanceof MirrorError) return err;
  const code = sqliteCode(err) ?? '';
  const why = (err as Error)?.message ?? String(err);
  if (code === 'SQLITE_NOTADB') {
    return new MirrorError(
      'DB_NOT_A_DATABASE',
      `${path} is not a SQLite database; move it aside (or pass ${option('db')} with another path) and run \`jsonl-mirror import\` to rebuild the mirror from the logs`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new MirrorError(
      'DB_CORRUPT',
      `${path} is corrupt (${why}); move it aside and run \`jsonl-mirror import\` to rebuild the mirror from the logs`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new MirrorError(
      'DB_LOCKED',
      `${path} is locked by another process; retry when it finishes, or raise the busy timeout`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new MirrorError(
      'DB_READONLY',
      `cannot open ${path} for writing (${why}); check the file's and its directory's permissions, or pass ${option('db')} with a writable path`,
      { cause: err },
    );
  }
  return new MirrorError('DB_OPEN_FAILED', `cannot open ${path}: ${why}`, { cause: err });
}

/**
 * A read-only open of a WAL mirror needs its -shm file; when it is absent and
 * this user may not create it (a folder they cannot write), SQLite cannot read
 * the file in place. Then read a private copy: with no -wal there is no writer,
 * so the main file is the whole mirror.
 */
function privateCopy(path: string, err: unknown): { copy: string; remove: () => void } {
  if (existsSync(`${path}-wal`)) {
    throw new MirrorError(
      'DB_READONLY',
      `cannot read ${path} as this user: a writer has its -wal file open, and SQLite cannot open or create ${path}-shm next to it ` +
        `(${(err as Error).message}); give this user read permission on ${path}-wal and -shm (or write permission on the folder), or run the command as the mirror's owner`,
      { cause: err },
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-mirror-ro-'));
  const copy = join(dir, basename(path));
  try {
    copyFileSync(path, copy);
  } catch (copyErr) {
    rmSync(dir, { recursive: true, force: true });
    throw new MirrorError(
      'DB_READONLY',
      `cannot read ${path}: SQLite needs to create ${path}-shm, this user may not write that folder, and a private copy failed ` +
        `(${(copyErr as Error).message}); give this user write permission on the folder, or free space in ${tmpdir()}`,
      { cause: copyErr },
    );
  }
  return { copy, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const cannotCreateShm = (err: unknown): boolean => {
  const code = sqliteCode(err) ?? '';
  return code === 'SQLITE_READONLY_DIRECTORY' || code.startsWith('SQLITE_CANTOPEN');
};

/**
 * Opens the mirror: one long-lived connection per process (docs/design.md#invariant-10),
 * WAL with synchronous=NORMAL and a busy timeout, schema checked and migrated.
 * Only a file that is provably our mirror, or an empty one, is ever written
 * (docs/design.md#invariant-11); a read-only open never writes at all.
 */
export function openStore(path: string, opts: OpenOptions = {}): SqliteStore {
  const driver = loadSqlite();
  const readonly = opts.readonly ?? false;
  const dir = dirname(path);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new MirrorError(
      'DB_DIR_MISSING',
      `the directory of the database ${path} does not exist; create ${dir} or pass ${option('db')} with a path in an existing directory`,
    );
  }
  const exists = checkDbPath(path);
  if ((readonly || opts.mustExist) && !exists) {
    throw new MirrorError('DB_MISSING', `no mirror at ${path}; run \`jsonl-mirror import\` to create it`);
  }
  let db: Database | undefined;
  let removeCopy: (() => void) | undefined;
  const connect = (file: string) => driver.open(file, { readonly, fileMustExist: readonly, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 });
  try {
    db = connect(path);
    let owner: Ownership;
    try {
      // The first real I/O: a file SQLite cannot read fails here.
      owner = ownershipOf(db, path);
    } catch (err) {
      if (!readonly || !cannotCreateShm(err)) throw err;
      db.close();
      const copy = privateCopy(path, err);
      removeCopy = copy.remove;
      db = connect(copy.copy);
      owner = ownershipOf(db, path);
    }
    if (owner === 'empty' && readonly) {
      throw new MirrorError('DB_MISSING', `${path} is an empty database, not a mirror yet; run \`jsonl-mirror import\` to create the mirror in it`);
    }
    if (!readonly) {
      if (owner !== 'ours') markOurs(db);
      db.pragma(PRAGMA.wal);
      db.pragma(PRAGMA.synchronousNormal);
      db.pragma(PRAGMA.walAutocheckpoint);
    }
    const { current, pending } = checkSchema(db, path);
    let version = current;
    if (pending.length > 0) {
      if (readonly) {
        throw new MirrorError(
          'DB_NEEDS_MIGRATION',
          `${path} has schema version ${current} and needs migrations this read-only open cannot apply; run \`jsonl-mirror migrate\``,
        );
      }
      migrate(db, pending);
      version = pending.at(-1)!.version;
    }
    const store = new SqliteStore(db, path, readonly, version, removeCopy);
    // sql/009 leaves dora_pairs to be filled from the rows by the first open that may write.
    if (!readonly) {
      try {
        store.finishPairs();
      } catch (err) {
        // Another writer holds the lock (a bulk load filling them itself): reads pair the rows until an open that can.
        if (!sqliteCode(err)?.startsWith('SQLITE_BUSY')) throw err;
      }
    }
    return store;
  } catch (err) {
    db?.close();
    removeCopy?.();
    throw translateOpenError(err, path);
  }
}
