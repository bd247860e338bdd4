import type BetterSqlite3 from 'better-sqlite3';
import type { DriverDatabase, DriverOpenOptions, DriverStatement, RowShape, RunResult, SqliteDriver, TransactionMode } from './driver.js';

/**
 * better-sqlite3 already has the shape the seam asks for (the seam was cut
 * from its API), so its statements are handed out as they are, but for
 * reads of objects (ObjectRows): the store's hot insert path pays no
 * wrapper per call.
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
    if (shape === 'rows' && stmt.reader) return new ObjectRows(stmt.raw(true));
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

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A reading statement whose rows are objects, fetched as arrays and built by
 * a function compiled for its columns: better-sqlite3 makes each row object
 * through V8's property API, which costs twice the query on a read of 15k
 * rows (the timeline at 10M events: 28 ms as objects, 12 ms as arrays built
 * so). Names no object literal can hold as written (quoted names,
 * `__proto__`) are defined one by one; a column named `__proto__` is then an
 * own property, where better-sqlite3 hands it to the prototype setter and
 * the column is lost.
 */
class ObjectRows implements DriverStatement {
  private build: ((row: unknown[]) => Record<string, unknown>) | undefined;

  constructor(private readonly stmt: BetterSqlite3.Statement) {}

  get readonly(): boolean {
    return this.stmt.readonly;
  }

  get reader(): boolean {
    return true;
  }

  columns(): { name: string }[] {
    return this.stmt.columns();
  }

  private builder(): (row: unknown[]) => Record<string, unknown> {
    if (this.build) return this.build;
    const names = this.stmt.columns().map((c) => c.name);
    if (names.every((n) => IDENTIFIER.test(n) && n !== '__proto__')) {
      // A name twice keeps its first place and takes the later value, as better-sqlite3's own objects do.
      const fields = [...new Set(names)].map((n) => `${n}: r[${names.lastIndexOf(n)}]`);
      this.build = new Function('r', `return { ${fields.join(', ')} };`) as (row: unknown[]) => Record<string, unknown>;
    } else {
      this.build = (r) => {
        const o: Record<string, unknown> = {};
        names.forEach((n, i) => Object.defineProperty(o, n, { value: r[i], writable: true, enumerable: true, configurable: true }));
        return o;
      };
    }
    return this.build;
  }

  run(...params: unknown[]): RunResult {
    return this.stmt.run(...params);
  }

  get(...params: unknown[]): unknown {
    const row = this.stmt.get(...params) as unknown[] | undefined;
    return row === undefined ? undefined : this.builder()(row);
  }

  all(...params: unknown[]): unknown[] {
    const rows = this.stmt.all(...params) as unknown[][];
    const build = this.builder();
    for (let i = 0; i < rows.length; i++) rows[i] = build(rows[i]!) as unknown as unknown[];
    return rows;
  }

  *iterate(...params: unknown[]): IterableIterator<unknown> {
    const build = this.builder();
    for (const row of this.stmt.iterate(...params)) yield build(row as unknown[]);
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
