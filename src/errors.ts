/**
 * Every failure a user can cause or fix surfaces as a MirrorError: a stable
 * `code` for programs and a message that names the problem and the fix.
 */
export type MirrorErrorCode =
  | 'DIR_MISSING'
  | 'DB_DIR_MISSING'
  | 'DB_NOT_A_DATABASE'
  | 'DB_FOREIGN'
  | 'DB_UNREADABLE'
  | 'DB_CORRUPT'
  | 'DB_LOCKED'
  | 'DB_READONLY'
  | 'DB_NEWER_SCHEMA'
  | 'DB_MIGRATION_CHANGED'
  | 'DB_NEEDS_MIGRATION'
  | 'DB_MISSING'
  | 'DB_OPEN_FAILED'
  | 'SQLITE_UNAVAILABLE'
  | 'FILE_UNREADABLE'
  | 'INVALID_EVENT'
  | 'INVALID_ARGUMENT'
  | 'WRITE_FAILED'
  | 'VERIFY_FAILED'
  | 'TAILER_RUNNING'
  | 'DISK_FULL'
  // The bulk import's parse-ahead worker thread failed or exited (src/ingest/parse-ahead.ts).
  | 'INGEST_WORKER_FAILED'
  // PostgreSQL engine (sql/pg): the server is not there, the connection was closed, rows already held.
  | 'DB_UNREACHABLE'
  | 'DB_CLOSED'
  | 'DB_CONFLICT';

export class MirrorError extends Error {
  readonly code: MirrorErrorCode;
  constructor(code: MirrorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MirrorError';
    this.code = code;
  }
}

/**
 * How a library message names one of its options (`dir`, `db`, `port`): the
 * library's caller passes options, the CLI's user flags, and the CLI says
 * its flag instead (asFlags).
 */
export const option = (name: string): string => `the \`${name}\` option`;

const OPTION_RE = /the `(\w+)` option/g;

/** A library message as the CLI says it: each option named as its flag. */
export function asFlags(message: string): string {
  return message.replace(OPTION_RE, (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}

export function isMirrorError(err: unknown, code?: MirrorErrorCode): err is MirrorError {
  return err instanceof MirrorError && (code === undefined || err.code === code);
}

/** SQLite error codes arrive as `code` on the error of either driver (better-sqlite3's SqliteError, bun:sqlite's SQLiteError). */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
