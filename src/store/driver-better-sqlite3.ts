import type BetterSqlite3 from 'better-sqlite3';
import type { DriverDatabase, DriverOpenOptions, DriverStatement, RowShape, SqliteDriver, TransactionMode } from './driver.js';

/**
 * better-sqlite3 already has the shape the seam asks for (the seam was cut
 * from its API), so its statements are handed out as they are: the store's
 * hot insert path pays no wrapper per call.
 */
class BetterDatabase implements DriverDatabase {
  constructor(private readonly db: BetterSqlite3.Database) {}

  get open(): boolean {
    return this.db.open;
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  prepare(sql: string, shape: RowShape = 'rows'): DriverStatement {
    const stmt = this.db.prepare(sql);
    if (shape === 'raw') stmt.raw(true);
    if (shape === 'pluck') stmt.pluck(true);
    return stmt as unknown as DriverStatement;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  transaction<A extends unknown[], R>(fn: (...a: A) => R, mode: TransactionMode): (...a: A) => R {
    const txn = this.db.transaction(fn);
    return mode === 'immediate' ? txn.immediate : txn.deferred;
  }

  pragma(setting: string): unknown[] {
    return this.db.pragma(setting) as unknown[];
  }

  pragmaValue(setting: string): unknown {
    return this.db.pragma(setting, { simple: true });
  }

  async backupTo(dest: string): Promise<void> {
    // All pages in one step: a reader of dest sees the old database or the new one, never a mix.
    await this.db.backup(dest, { progress: () => 0x7fffffff });
  }

  close(): void {
    this.db.close();
  }
}

/**
 * A driver over better-sqlite3, or a module with its API (JSONL_MIRROR_SQLITE_MODULE names one in tests);
 * `nativeBinding`, the addon's path, spares better-sqlite3 the search for it.
 */
export function betterSqlite3Driver(Database: typeof BetterSqlite3, name: string, nativeBinding?: string): SqliteDriver {
  return {
    name,
    open: (path: string, o: DriverOpenOptions) =>
      new BetterDatabase(new Database(path, { readonly: o.readonly, fileMustExist: o.fileMustExist, timeout: o.busyTimeoutMs, nativeBinding })),
  };
}
