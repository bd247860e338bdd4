import type { DriverDatabase, DriverOpenOptions, DriverStatement, RowShape, RunResult, SqliteDriver, TransactionMode } from './driver.js';

/** What this driver uses of bun:sqlite (Bun's own types are not a dependency of a Node package). */
interface BunStatement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  values(...params: unknown[]): unknown[][];
  iterate(...params: unknown[]): IterableIterator<Record<string, unknown>>;
  readonly columnNames: string[];
  readonly readonly?: boolean;
  readonly reader?: boolean;
}
type BunTransaction<A extends unknown[], R> = ((...a: A) => R) & { deferred: (...a: A) => R; immediate: (...a: A) => R };
interface BunDatabase {
  prepare(sql: string): BunStatement;
  exec(sql: string): void;
  transaction<A extends unknown[], R>(fn: (...a: A) => R): BunTransaction<A, R>;
  readonly inTransaction: boolean;
  readonly filename: string;
  close(): void;
}
export type BunDatabaseConstructor = new (path: string, o: Record<string, boolean>) => BunDatabase;

/** bun:sqlite's get() says "no row" with null, better-sqlite3's (and the seam's) with undefined. */
const noRow = (row: unknown): unknown => (row === null ? undefined : row);

class BunStatementAdapter implements DriverStatement {
  constructor(
    private readonly stmt: BunStatement,
    private readonly shape: RowShape,
  ) {}

  run(...params: unknown[]): RunResult {
    return this.stmt.run(...params);
  }

  get(...params: unknown[]): unknown {
    if (this.shape === 'rows') return noRow(this.stmt.get(...params));
    const first = this.stmt.values(...params)[0];
    return this.shape === 'raw' ? first : first?.[0];
  }

  all(...params: unknown[]): unknown[] {
    if (this.shape === 'rows') return this.stmt.all(...params);
    const rows = this.stmt.values(...params);
    return this.shape === 'raw' ? rows : rows.map((r) => r[0]);
  }

  *iterate(...params: unknown[]): IterableIterator<unknown> {
    if (this.shape === 'raw') {
      // bun:sqlite iterates objects only, and an object loses a repeated column name: arrays come from values().
      yield* this.stmt.values(...params);
      return;
    }
    for (const row of this.stmt.iterate(...params)) yield this.shape === 'rows' ? row : Object.values(row)[0];
  }

  get readonly(): boolean {
    // An older Bun without the flag: assume a write, so a read-only caller refuses rather than runs it.
    return this.stmt.readonly ?? false;
  }

  get reader(): boolean {
    return this.stmt.reader ?? this.stmt.columnNames.length > 0;
  }

  columns(): { name: string }[] {
    return this.stmt.columnNames.map((name) => ({ name }));
  }
}

/**
 * Whether SQL holds a statement after its first one. SQLite's prepare stops
 * at the first; better-sqlite3 refuses the rest and bun:sqlite silently drops
 * it, so this driver refuses it itself (strings, quoted names and comments
 * skipped).
 */
export function hasSecondStatement(sql: string): boolean {
  let i = 0;
  let ended = false;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      if (ended) return true;
      i = sql.indexOf(close, i + 1);
      if (i === -1) return false;
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === ';') {
      ended = true;
      i++;
    } else {
      if (ended && !/\s/.test(c)) return true;
      i++;
    }
  }
  return false;
}

const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface SchemaObject {
  type: string;
  name: string;
  sql: string | null;
}

class BunDatabaseAdapter implements DriverDatabase {
  private closed = false;
  constructor(
    private readonly db: BunDatabase,
    private readonly Database: BunDatabaseConstructor,
    private readonly busyTimeoutMs: number,
  ) {}

  get open(): boolean {
    return !this.closed;
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  prepare(sql: string, shape: RowShape = 'rows'): DriverStatement {
    if (hasSecondStatement(sql)) throw new RangeError('The supplied SQL string contains more than one statement');
    return new BunStatementAdapter(this.db.prepare(sql), shape);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  transaction<A extends unknown[], R>(fn: (...a: A) => R, mode: TransactionMode): (...a: A) => R {
    const txn = this.db.transaction(fn);
    return mode === 'immediate' ? txn.immediate : txn.deferred;
  }

  pragma(setting: string): unknown[] {
    return this.db.prepare(`PRAGMA ${setting}`).all();
  }

  pragmaValue(setting: string): unknown {
    return this.db.prepare(`PRAGMA ${setting}`).values()[0]?.[0];
  }

  /**
   * bun:sqlite has no online backup. Its equivalent here: on a connection to
   * dest, one IMMEDIATE transaction drops dest's schema and copies this
   * database's schema, rows, header fields and AUTOINCREMENT counters from it
   * (ATTACHed). dest's other connections see the old content or the new,
   * never a mix, as with a backup; dest keeps its inode and WAL.
   */
  async backupTo(dest: string): Promise<void> {
    const target = new this.Database(dest, { readwrite: true, create: false, strict: true });
    try {
      target.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
      target.prepare('ATTACH DATABASE ? AS fresh').run(this.db.filename);
      try {
        // IMMEDIATE: the write lock from BEGIN, so no other writer commits between the drop and the copy.
        target.transaction(() => copySchemaAndRows(target)).immediate();
      } finally {
        target.exec('DETACH DATABASE fresh');
      }
    } finally {
      target.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

const SCHEMA = (db: string) => `SELECT type, name, sql FROM ${db}.sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid`;
const header = (db: BunDatabase, schema: string, field: string): number => Number(db.prepare(`PRAGMA ${schema}.${field}`).values()[0]?.[0] ?? 0);

function copySchemaAndRows(target: BunDatabase): void {
  const old = target.prepare(SCHEMA('main')).all() as SchemaObject[];
  for (const kind of ['trigger', 'view', 'index', 'table']) {
    for (const o of old) if (o.type === kind && o.sql !== null) target.exec(`DROP ${kind.toUpperCase()} IF EXISTS main.${quoted(o.name)}`);
  }
  const fresh = target.prepare(SCHEMA('fresh')).all() as SchemaObject[];
  const tables = fresh.filter((o) => o.type === 'table' && o.sql !== null);
  for (const t of tables) target.exec(t.sql!);
  for (const t of tables) target.exec(`INSERT INTO main.${quoted(t.name)} SELECT * FROM fresh.${quoted(t.name)}`);
  if (target.prepare("SELECT 1 FROM fresh.sqlite_master WHERE name = 'sqlite_sequence'").get()) {
    target.exec('DELETE FROM main.sqlite_sequence');
    target.exec('INSERT INTO main.sqlite_sequence SELECT * FROM fresh.sqlite_sequence');
  }
  for (const o of fresh) if (o.type !== 'table' && o.sql !== null) target.exec(o.sql);
  for (const field of ['application_id', 'user_version']) target.exec(`PRAGMA main.${field} = ${header(target, 'fresh', field)}`);
}

/** A driver over Bun's built-in SQLite, with strict binding: @name parameters bind from keys without the @, as in better-sqlite3. */
export function bunSqliteDriver(Database: BunDatabaseConstructor): SqliteDriver {
  return {
    name: 'bun:sqlite',
    open: (path: string, o: DriverOpenOptions) => {
      const db = o.readonly
        ? new Database(path, { readonly: true, strict: true })
        : new Database(path, { readwrite: true, create: !o.fileMustExist, strict: true });
      try {
        db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(o.busyTimeoutMs))}`);
      } catch (err) {
        db.close();
        throw err;
      }
      return new BunDatabaseAdapter(db, Database, o.busyTimeoutMs);
    },
  };
}
