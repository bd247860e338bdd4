import { MirrorError } from '../../errors.js';
import { defaultHostId, redact } from '../../model/mirror-db.js';
import type { Stmt, StatementSet } from '../statement-set.js';
import type { SqlName } from '../statements.js';
import { dayKey, dayValues, issueKey, StoreOps, withWrittenTs, type KeptLine } from '../store.js';
import { isUnreachable, PgError, SyncPg } from './bridge.js';
import type { DayTotal, DoraPair, EventFields, EventRow, FeedRow, IssueCost, MirroredLine, PairRef } from '../rows.js';
import type { PairTotals } from '../../model/query.js';
import { fleetHosts } from './fleet.js';
import { pgReadQuery } from './ad-hoc.js';
import type { ExportQuery, FeedEntry, FeedPosition, Fleet, FleetStream, HostScope, QueryRows, Store } from '../api.js';
import { readOnce, readPages } from './read-pages.js';
import { pgEventsSql, pgExportSql, pgFeedCountSql, pgFeedPageSql, pgGroupsSql, pgPairTotalsSql, pgRecordsSql } from './read-sql.js';
import { checkPgSchema, migratePg } from './migrations.js';
import {
  ADD_DAY_TOTALS, ADD_ISSUE_COSTS, CHANGE_STAMP, CLEAR_ISSUE_PAIRS, CLEAR_PAIRS, PAIRS_FROM_ROWS, PAIRS_KEPT, PAIRS_OF_SOURCE, REBUILD_PAIRS,
  REPAIR_ISSUE_PAIRS, COPY_EVENTS, EVENT_OFFSETS_PAGE, FLEET_STREAMS, FORGET_HOST, LAST_COMMIT, DB_BYTES, EVENT_ORDER_LOCK, EVENTS_AFTER, HOST_WRITE_LOCK, MAX_EVENT_ID, READ_ONLY_SESSION, NAMED_PARAMS, PG_SQL, TAILER_LOCK_HELD, TAILER_UNLOCK, TRY_TAILER_LOCK, TS_TEXT_FROM,
} from './statements.js';
import { PAIRS_PENDING } from '../statements.js';

// tailer/pg-tailer.ts labels its messages with it until the fleet tailer opens through the registry (issue #23).
export { redact };

export interface PgOpenOptions {
  /** The machine this process ingests for (default: the hostname). */
  hostId?: string;
  /** Read only: every transaction of the session is READ ONLY; no migrations. */
  readonly?: boolean;
  /** false: fail with DB_NEEDS_MIGRATION instead of migrating (the writer never sets a database up). */
  migrate?: boolean;
  /** Connection timeout, ms (default 5000). */
  connectMs?: number;
  /** How long one statement may take, ms (default 120000). */
  statementMs?: number;
}

/** A PostgreSQL failure as the CLI reports it: unreachable, or what the server said. */
export function translatePgError(err: unknown, label: string): unknown {
  if (err instanceof MirrorError) return err;
  if (isUnreachable(err)) {
    return new MirrorError(
      'DB_UNREACHABLE',
      `cannot reach PostgreSQL at ${label} (${(err as Error).message}); start the server or check --db, then run again (a tailer retries by itself)`,
      { cause: err },
    );
  }
  if (err instanceof PgError && err.sqlstate === '28P01') {
    return new MirrorError('DB_OPEN_FAILED', `PostgreSQL refused the login at ${label} (${err.message}); check the user and password in --db`, { cause: err });
  }
  if (err instanceof PgError && err.sqlstate === '23505') {
    return new MirrorError('DB_CONFLICT', `PostgreSQL at ${label} already holds rows a batch sent (${err.message}); ` +
      'two processes share one --host-id for different machines? give each machine its own, then run `jsonl-mirror doctor`', { cause: err });
  }
  if (err instanceof PgError && err.sqlstate === '3D000') {
    return new MirrorError('DB_MISSING', `${err.message} at ${label}; create it (\`createdb NAME\`) or fix the name in --db`, { cause: err });
  }
  return err;
}

/**
 * PostgreSQL text cannot hold U+0000, which SQLite and JSON strings can
 * ("\u0000" in a field, a raw NUL in a rejected line's sample): it is stored
 * as U+FFFD. The original line column never has one (JSON forbids a raw NUL).
 */
const noNul = (v: unknown): unknown => (typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v);

/**
 * The store's statement surface over PostgreSQL: the same names and argument
 * order as the SQLite statements, so the one ingest path runs unchanged;
 * every statement is scoped to this store's host.
 */
class PgStatement implements Stmt {
  constructor(
    private readonly conn: PgConnection,
    private readonly text: string,
    private readonly named: readonly string[] | undefined,
  ) {}

  private args(params: unknown[]): unknown[] {
    const first = params[0];
    if (this.named && params.length === 1 && first !== null && typeof first === 'object') {
      const named = first as Record<string, unknown>;
      return [this.conn.host, ...this.named.map((k) => noNul(named[k]))];
    }
    return [this.conn.host, ...params.map(noNul)];
  }

  private rows(params: unknown[]): unknown[] {
    return this.conn.exec(this.text, this.args(params)).rows;
  }

  get(...params: unknown[]): unknown {
    return this.rows(params)[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.rows(params);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.rows(params)[Symbol.iterator]();
  }

  run(...params: unknown[]): { changes: number; lastInsertRowid: number } {
    const r = this.conn.exec(this.text, this.args(params));
    const id = (r.rows[0] as { id?: number } | undefined)?.id;
    return { changes: r.rowCount, lastInsertRowid: id ?? 0 };
  }
}

/** Lines per page of eventOffsets. */
const OFFSETS_PAGE = 5000;

/** Events per COPY: big enough to amortise the round trip, small enough that parsing overlaps the server's work. */
const FLUSH_ROWS = 5000;

/** A value in COPY's text format: \N for null; backslash, tab, newline and carriage return escaped. */
function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v !== 'string') return String(v);
  const t = noNul(v) as string;
  return /[\\\t\n\r]/.test(t) ? t.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : t;
}
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Events are the hot path: they are collected as COPY text and sent when the
 * batch reaches FLUSH_ROWS, before any other statement, and before COMMIT,
 * without waiting for the server meanwhile. `run` reports one change per row:
 * the checkpoint, re-read under the host's write lock, means the server holds
 * none of them yet; if it does, COPY fails and so does the transaction.
 */
class EventBuffer implements Stmt {
  private text = '';
  private n = 0;
  constructor(private readonly conn: PgConnection) {}

  run(...params: unknown[]): { changes: number; lastInsertRowid: number } {
    let line = copyField(this.conn.host);
    for (const p of params) line += `\t${copyField(p)}`;
    this.text += `${line}\n`;
    this.n++;
    if (this.n >= FLUSH_ROWS) this.flush();
    return { changes: 1, lastInsertRowid: 0 };
  }

  get(): never {
    return this.writeOnly();
  }

  all(): never {
    return this.writeOnly();
  }

  iterate(): never {
    return this.writeOnly();
  }

  private writeOnly(): never {
    throw new Error('jsonl-mirror: the PostgreSQL event buffer only takes rows');
  }

  flush(): void {
    if (this.n === 0) return;
    const n = this.n;
    const host = this.conn.host;
    const text = this.text;
    this.clear();
    this.conn.takeEventOrder();
    this.conn.pg.copyIn(COPY_EVENTS, text, (r) => {
      if (r.rowCount !== n) {
        throw new MirrorError('DB_CONFLICT', `PostgreSQL took ${r.rowCount} of the ${n} rows a batch sent for host ${host}; run \`jsonl-mirror doctor\``);
      }
    });
  }

  clear(): void {
    this.text = '';
    this.n = 0;
  }
}

/** One connection, its host, its transaction depth and its pending events. */
class PgConnection implements StatementSet {
  readonly events: EventBuffer;
  private depth = 0;
  /** This transaction holds the event-order lock. */
  private ordered = false;
  private readonly cache = new Map<string, PgStatement>();

  constructor(
    readonly pg: SyncPg,
    readonly host: string,
  ) {
    this.events = new EventBuffer(this);
  }

  exec(sql: string, params: unknown[]) {
    this.events.flush();
    return this.pg.query(sql, params);
  }

  arrays(sql: string, params: unknown[]) {
    this.events.flush();
    return this.pg.arrays(sql, params);
  }

  stmt(name: SqlName): Stmt {
    let s = this.cache.get(name);
    if (!s) {
      s = new PgStatement(this, PG_SQL[name], NAMED_PARAMS[name]);
      this.cache.set(name, s);
    }
    return s;
  }

  /** Before a transaction's first event row (EVENT_ORDER_LOCK): ids in commit order across the fleet. */
  takeEventOrder(): void {
    if (this.depth === 0 || this.ordered) return;
    this.pg.query(EVENT_ORDER_LOCK);
    this.ordered = true;
  }

  /** BEGIN, the host's write lock (SQLite's IMMEDIATE), fn, COMMIT; nested calls join the outer one. */
  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
    const run = (...a: A): R => {
      if (this.depth > 0) return fn(...a);
      this.pg.query('BEGIN');
      this.depth++;
      try {
        this.pg.query(HOST_WRITE_LOCK, [this.host]);
        const out = fn(...a);
        this.events.flush();
        this.pg.query('COMMIT');
        return out;
      } catch (err) {
        this.events.clear();
        try {
          this.pg.query('ROLLBACK');
        } catch {
          // The connection is gone with the transaction; the next statement reconnects.
        }
        throw err;
      } finally {
        this.depth--;
        this.ordered = false;
      }
    };
    return run;
  }

  close(): void {
    this.pg.close();
  }
}

/** A Store whose engine is PostgreSQL, plus what only a fleet database has. */
export class PgStore extends StoreOps implements Store {
  readonly engine = 'postgres';
  /** COPY cannot skip a held row: it fails the batch's transaction instead (EventBuffer). */
  readonly insertSaysHeld = false;
  readonly codesLines = false;
  readonly fleet: Fleet;

  constructor(
    private readonly conn: PgConnection,
    path: string,
    readonly: boolean,
    schemaVersion: number,
    readonly host: string,
    private readonly pg: SyncPg,
  ) {
    super(conn, path, readonly, schemaVersion);
    this.fleet = {
      host,
      hosts: () => fleetHosts(pg),
      streams: () => pg.query<FleetStream>(FLEET_STREAMS).rows,
      // rebuild reads them again in the same transaction; other hosts' rows stay.
      forgetHost: () => {
        for (const sql of FORGET_HOST) conn.exec(sql, [host]);
      },
    };
  }

  /** Buffered for COPY (EventBuffer): one row per call, sent with the batch. */
  insertEvent(r: EventRow): boolean {
    const f = r.fields;
    this.conn.events.run(r.sourceId, r.offset, r.stream, r.rank, f.type, f.ts_epoch, f.issue, f.stage, f.result,
      f.duration_s, f.cost_usd, f.model, f.input_tokens, f.output_tokens, f.ts_text, r.line);
    return true;
  }

  /** All of a transaction's cells in one statement: a round trip per cell would cost more than the batch's COPY. */
  override addDayTotals(cells: Iterable<DayTotal>): void {
    const columns: unknown[][] = Array.from({ length: 14 }, () => []);
    for (const t of cells) [...dayKey(t), ...dayValues(t)].forEach((v, i) => columns[i]!.push(noNul(v)));
    if (columns[0]!.length > 0) this.conn.exec(ADD_DAY_TOTALS, [this.host, ...columns]);
  }

  override addIssueCosts(cells: Iterable<IssueCost>): void {
    const columns: unknown[][] = Array.from({ length: 9 }, () => []);
    for (const c of cells) [...issueKey(c), c.usd_sum, c.tok_in, c.tok_out].forEach((v, i) => columns[i]!.push(noNul(v)));
    if (columns[0]!.length > 0) this.conn.exec(ADD_ISSUE_COSTS, [this.host, ...columns]);
  }

  // DORA's pairs (sql/pg/007), per host: each host's writer keeps its own.

  /** One statement pair per stream, the issues as arrays: a round trip per issue would cost more than the batch. */
  repairPairs(refs: Iterable<PairRef>): void {
    const byStream = new Map<string, Map<number, number>>();
    for (const r of refs) {
      const issues = byStream.get(r.stream) ?? byStream.set(r.stream, new Map()).get(r.stream)!;
      const from = issues.get(r.issue);
      if (from === undefined || r.from < from) issues.set(r.issue, r.from);
    }
    if (byStream.size === 0 || this.pairsPending()) return;
    for (const [stream, issues] of byStream) {
      const args = [this.host, stream, [...issues.keys()], [...issues.values()]];
      this.conn.exec(CLEAR_ISSUE_PAIRS, args);
      this.conn.exec(REPAIR_ISSUE_PAIRS, args);
    }
  }

  private readonly rebuildPairs = (): void => {
    this.conn.exec(CLEAR_PAIRS, [this.host]);
    this.conn.exec(REBUILD_PAIRS, [this.host]);
    this.deleteMeta(PAIRS_PENDING);
  };

  /** This host's pairs from its rows after sql/pg/007; a no-op when they are current. */
  finishPairs(): void {
    if (this.pairsPending()) this.transaction(this.rebuildPairs)();
  }

  pairsOfSource(sourceId: number): PairRef[] {
    return this.pg.query<PairRef>(PAIRS_OF_SOURCE, [this.host, sourceId]).rows;
  }

  pairsKept(): DoraPair[] {
    return this.pg.query<DoraPair>(PAIRS_KEPT, [this.host]).rows;
  }

  pairsFromRows(): DoraPair[] {
    return this.pg.query<DoraPair>(PAIRS_FROM_ROWS, [this.host]).rows;
  }

  pairTotals(q: Parameters<typeof pgPairTotalsSql>[0]): PairTotals | undefined {
    const s = pgPairTotalsSql(q);
    const [streams, pending, leads, leadSeconds, restores, restoreSeconds] = this.pg.arrays(s.sql, s.params)[0] as number[];
    return streams! > 1 || pending! > 0 ? undefined : { leads: leads!, leadSeconds: leadSeconds!, restores: restores!, restoreSeconds: restoreSeconds! };
  }

  // The query shapes of read-sql.ts, over every host or the one named in the query.

  events(q: Parameters<typeof pgEventsSql>[0]): EventFields[] {
    const s = pgEventsSql(q, this.tsTextFrom());
    return withWrittenTs(this.pg.query<EventFields>(s.sql, s.params).rows, (line) => line);
  }

  private tsFrom: number | undefined;
  /** Fixed once the mirror is open: only a migration sets it. */
  private tsTextFrom(): number {
    return (this.tsFrom ??= Number((this.pg.query<{ value: string }>(TS_TEXT_FROM, []).rows[0])!.value));
  }

  /** By pages of the primary key, not one result set: a source may hold millions of lines. */
  override *eventOffsets(sourceId: number): Generator<MirroredLine> {
    for (let after = -1; ;) {
      const page = this.pg.query<KeptLine>(EVENT_OFFSETS_PAGE, [this.host, sourceId, after, OFFSETS_PAGE]).rows;
      for (const r of page) yield this.mirrored(r);
      if (page.length < OFFSETS_PAGE) return;
      after = page.at(-1)!.offset;
    }
  }

  override keptFields(f: EventFields): EventFields {
    const { type, stage, result, model } = f;
    return { ...f, type: noNul(type) as string | null, stage: noNul(stage) as string | null, result: noNul(result) as string | null, model: noNul(model) as string | null };
  }

  /** The newest event id of the whole fleet: the live feed's head. */
  override maxEventId(): number {
    return this.pg.query<{ id: number }>(MAX_EVENT_ID).rows[0]!.id;
  }

  /** Every host's events after `id`, in id order, which is commit order (EVENT_ORDER_LOCK). */
  override eventsAfter(id: number, limit: number): FeedRow[] {
    return this.pg.query<FeedRow>(EVENTS_AFTER, [id, limit]).rows;
  }

  /** Group rows as arrays: the group keys, then count and sum. */
  groups(q: Parameters<typeof pgGroupsSql>[0]): unknown[][] {
    const s = pgGroupsSql(q);
    return this.pg.arrays(s.sql, s.params);
  }

  feedCount(q: Parameters<typeof pgFeedCountSql>[0]): number {
    const s = pgFeedCountSql(q);
    return this.pg.query<{ n: number }>(s.sql, s.params).rows[0]!.n;
  }

  /** Each entry's position: [ts_epoch, stream, host, rank, offset], log order across hosts. */
  feedPage(q: Parameters<typeof pgFeedPageSql>[0], after?: FeedPosition): FeedEntry[] {
    const s = pgFeedPageSql(q, after as Parameters<typeof pgFeedPageSql>[1]);
    return this.pg.query<Omit<FeedRow, 'id'> & { host: string }>(s.sql, s.params).rows
      .map((r) => ({ line: r.line, position: [r.ts_epoch, r.stream, r.host, r.rank, r.offset] }));
  }

  records(q: Parameters<typeof pgRecordsSql>[0]): (EventFields & { line: string })[] {
    const s = pgRecordsSql(q, this.tsTextFrom());
    const rows = withWrittenTs(this.pg.query<EventFields & { line: string }>(s.sql, s.params).rows, (line) => line);
    return q.last === undefined ? rows : rows.reverse();
  }

  /** The original lines of the mirrored events, in pages through a cursor. */
  *exportLines(q: ExportQuery & HostScope): Generator<string> {
    const s = pgExportSql(q);
    for (const row of readPages(this.pg, s.sql, s.params).rows) yield row[0] as string;
  }

  /** A user's read statement inside a READ ONLY transaction: through a cursor, or at once for what a cursor cannot carry. */
  readQuery(sql: string, params: unknown[]): QueryRows {
    return pgReadQuery((text, values, once) => (once ? readOnce(this.pg, text, values) : readPages(this.pg, text, values)), sql, params);
  }

  /** Nothing is pending: a PostgreSQL load keeps its indexes. */
  indexesPending(): boolean {
    return false;
  }

  /** What moves with every commit of any host (the server's answers are cached until it does). */
  changeStamp(): string {
    return this.pg.query<{ stamp: string }>(CHANGE_STAMP).rows[0]!.stamp;
  }

  /** When any host last committed (a checkpoint moved), epoch seconds; null for an empty mirror. */
  lastCommitSeconds(): number | null {
    const at = this.pg.query<{ at: string | null }>(LAST_COMMIT).rows[0]!.at;
    return at === null ? null : Date.parse(at) / 1000;
  }

  /** A server database has no file to be replaced under us. */
  movedOnDisk(): boolean {
    return false;
  }

  /** One tailer per host and folder (a session advisory lock); false when another holds it. */
  tryTailerLock(folder: string): boolean {
    return this.pg.query<{ ok: boolean }>(TRY_TAILER_LOCK, [this.host, folder]).rows[0]!.ok;
  }

  releaseTailerLock(folder: string): void {
    this.pg.query(TAILER_UNLOCK, [this.host, folder]);
  }

  /** Whether any session holds the tailer lock of this host and folder. */
  tailerLockHeld(folder: string): boolean {
    return this.pg.query<{ held: boolean }>(TAILER_LOCK_HELD, [this.host, folder]).rows[0]!.held;
  }

  /** The whole database's size on disk. */
  dbBytes(): number {
    return this.pg.query<{ n: number }>(DB_BYTES).rows[0]!.n;
  }
}

/**
 * Opens the fleet mirror: one connection (docs/design.md#invariant-10), the schema checked
 * and migrated under an advisory lock, every statement scoped to `hostId`.
 */
export function openPgStore(url: string, opts: PgOpenOptions = {}): PgStore {
  const label = redact(url);
  const host = opts.hostId ?? defaultHostId();
  if (host === '') throw new MirrorError('INVALID_ARGUMENT', '--host-id must not be empty');
  const pg = new SyncPg(url, { connectMs: opts.connectMs, statementMs: opts.statementMs });
  try {
    const { current, pending } = checkPgSchema(pg, label);
    let version = current;
    if (pending.length > 0) {
      if (opts.readonly || opts.migrate === false) {
        throw new MirrorError('DB_NEEDS_MIGRATION', `${label} has schema version ${current} and needs migrations; run \`jsonl-mirror import --db ${label}\` once`);
      }
      migratePg(pg, pending);
      version = pending.at(-1)!.version;
    }
    if (opts.readonly) pg.query(READ_ONLY_SESSION);
    const store = new PgStore(new PgConnection(pg, host), label, opts.readonly ?? false, version, host, pg);
    // sql/pg/007 leaves each host's dora_pairs to be filled from its rows by its first open that may write.
    if (!opts.readonly) store.finishPairs();
    return store;
  } catch (err) {
    pg.close();
    throw translatePgError(err, label);
  }
}
