import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MirrorError, sqliteCode } from '../errors.js';
import { checkSchema, migrate } from './migrations.js';
import { loadSqlite, type Database } from './sqlite-module.js';
import { Statements } from './statements.js';

export interface OpenOptions {
  /** Open without writing: no migrations, no WAL switch; fails when the file is missing. */
  readonly?: boolean;
  /** How long a statement waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Fail with DB_MISSING instead of creating a new mirror. */
  mustExist?: boolean;
}

export interface Store {
  readonly db: Database;
  readonly path: string;
  readonly readonly: boolean;
  readonly schemaVersion: number;
  readonly sql: Statements;
  close(): void;
}

/** Turns what SQLite and the OS say into a message that names the fix. */
export function translateOpenError(err: unknown, path: string): unknown {
  if (err instanceof MirrorError) return err;
  const code = sqliteCode(err) ?? '';
  const why = (err as Error)?.message ?? String(err);
  if (code === 'SQLITE_NOTADB') {
    return new MirrorError(
      'DB_NOT_A_DATABASE',
      `${path} is not a SQLite database; move it aside (or pass --db with another path) and run \`jsonl-mirror import\` to rebuild the mirror from the logs`,
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
      `cannot open ${path} for writing (${why}); check the file's and its directory's permissions, or pass --db with a writable path`,
      { cause: err },
    );
  }
  return new MirrorError('DB_OPEN_FAILED', `cannot open ${path}: ${why}`, { cause: err });
}

/**
 * Opens the mirror: one long-lived connection per process (invariant 10),
 * WAL with synchronous=NORMAL and a busy timeout, schema checked and migrated.
 */
export function openStore(path: string, opts: OpenOptions = {}): Store {
  const Database = loadSqlite();
  const readonly = opts.readonly ?? false;
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MirrorError(
      'DB_DIR_MISSING',
      `the directory of the database ${path} does not exist; create ${dir} or pass --db with a path in an existing directory`,
    );
  }
  if ((readonly || opts.mustExist) && !existsSync(path)) {
    throw new MirrorError('DB_MISSING', `no mirror at ${path}; run \`jsonl-mirror import\` to create it`);
  }
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly, timeout: opts.busyTimeoutMs ?? 5000 });
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    // Reading the schema is the first real I/O: a non-database fails here.
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
    const opened = db;
    return {
      db: opened,
      path,
      readonly,
      schemaVersion: version,
      sql: new Statements(opened),
      close: () => opened.close(),
    };
  } catch (err) {
    db?.close();
    throw translateOpenError(err, path);
  }
}
