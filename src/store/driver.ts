/**
 * The SQLite driver seam: what the store needs of a connection, with one
 * implementation per runtime (better-sqlite3 under Node, bun:sqlite under
 * Bun; sqlite-module.ts picks). Nothing outside src/store/ sees it, so
 * nothing there can learn which driver it has.
 */

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/**
 * How a statement hands back rows, fixed when it is prepared: objects by
 * column name, arrays of values, or the first column's value alone.
 */
export type RowShape = 'rows' | 'raw' | 'pluck';

/** A prepared statement; parameters are positional, or one object for @name parameters (without the @). */
export interface DriverStatement {
  run(...params: unknown[]): RunResult;
  /** The first row, undefined when there is none. */
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Whether it leaves the database unchanged (sqlite3_stmt_readonly). */
  readonly readonly: boolean;
  /** Whether it returns rows. */
  readonly reader: boolean;
  columns(): { name: string }[];
}

export type TransactionMode = 'deferred' | 'immediate';

export interface DriverDatabase {
  readonly open: boolean;
  readonly inTransaction: boolean;
  /** One statement; SQL holding a second one is refused (as SQLite's prepare would only run the first). */
  prepare(sql: string, shape?: RowShape): DriverStatement;
  /** Any number of statements, no parameters. */
  exec(sql: string): void;
  /** fn wrapped in BEGIN (DEFERRED or IMMEDIATE) ... COMMIT, rolled back when it throws; called inside another, a savepoint. */
  transaction<A extends unknown[], R>(fn: (...a: A) => R, mode: TransactionMode): (...a: A) => R;
  /** `PRAGMA setting`: every row it returns. */
  pragma(setting: string): unknown[];
  /** `PRAGMA setting`: the first column of its first row (undefined when none). */
  pragmaValue(setting: string): unknown;
  /**
   * Replaces the database at `dest` (which exists) with this one's content
   * in one step that dest's other connections see whole or not at all.
   */
  backupTo(dest: string): Promise<void>;
  close(): void;
}

export interface DriverOpenOptions {
  readonly: boolean;
  /** Fail when the file does not exist (a read-only open always does). */
  fileMustExist: boolean;
  /** How long a statement waits for another connection's lock. */
  busyTimeoutMs: number;
}

export interface SqliteDriver {
  /** The module it loaded: 'better-sqlite3', 'bun:sqlite', or what JSONL_MIRROR_SQLITE_MODULE named. */
  readonly name: string;
  open(path: string, o: DriverOpenOptions): DriverDatabase;
}
