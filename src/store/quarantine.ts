import { existsSync, renameSync } from 'node:fs';
import { MirrorError, sqliteCode, isMirrorError } from '../errors.js';
import { isOurMirrorFile } from './ownership.js';

/** Is this error SQLite (or our translation of it) saying the file is not a usable database? */
export function isBrokenDb(err: unknown): boolean {
  if (isMirrorError(err, 'DB_CORRUPT') || isMirrorError(err, 'DB_NOT_A_DATABASE')) return true;
  const code = sqliteCode(err) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/**
 * Moves a broken mirror aside, never deletes it: DB, -wal and -shm together,
 * so a stale WAL cannot meet the next mirror created at this path. Only a
 * file whose header proves it is our mirror moves (invariant 11); anything
 * else is refused untouched. Returns where the DB file went.
 */
export function quarantine(dbPath: string): string {
  if (!isOurMirrorFile(dbPath)) {
    throw new MirrorError(
      'DB_FOREIGN',
      `${dbPath} is not usable and its header does not prove it is a jsonl-mirror mirror, so it was left untouched; ` +
        'move it away yourself (or pass --db with another path) and run `jsonl-mirror import`',
    );
  }
  const aside = `${dbPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
  }
  return aside;
}

/**
 * Moves a broken mirror aside when it is provably ours and its folder lets us;
 * null otherwise (then nothing moved, and the caller's error stands).
 */
export function quarantineIfOurs(dbPath: string): string | null {
  if (!isOurMirrorFile(dbPath)) return null;
  try {
    return quarantine(dbPath);
  } catch {
    return null;
  }
}
