import { existsSync, renameSync } from 'node:fs';
import { sqliteCode, isMirrorError } from '../errors.js';

/** Is this error SQLite (or our translation of it) saying the file is not a usable database? */
export function isBrokenDb(err: unknown): boolean {
  if (isMirrorError(err, 'DB_CORRUPT') || isMirrorError(err, 'DB_NOT_A_DATABASE')) return true;
  const code = sqliteCode(err) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/**
 * Moves a broken mirror aside, never deletes it: DB, -wal and -shm together,
 * so a stale WAL cannot meet the next mirror created at this path.
 * Returns where the DB file went.
 */
export function quarantine(dbPath: string): string {
  const aside = `${dbPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
  }
  return aside;
}
