import { existsSync, renameSync } from 'node:fs';
import { MirrorError, sqliteCode, isMirrorError, option } from '../errors.js';
import { openStore, type SqliteStore } from './open.js';
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
 * file whose header proves it is our mirror moves (docs/design.md#invariant-11); anything
 * else is refused untouched. Returns where the DB file went.
 */
export function quarantine(dbPath: string): string {
  if (!isOurMirrorFile(dbPath)) {
    throw new MirrorError(
      'DB_FOREIGN',
      `${dbPath} is not usable and its header does not prove it is a jsonl-mirror mirror, so it was left untouched; ` +
        `move it away yourself (or pass ${option('db')} with another path) and run \`jsonl-mirror import\``,
    );
  }
  const aside = `${dbPath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, aside + suffix);
  }
  return aside;
}

/**
 * The one policy for a mirror found broken, applied only on a path that
 * writes (import, tail, append, rebuild, migrate, prune): move it aside when
 * it is provably ours (else DB_FOREIGN, the file untouched) and return where
 * it went; null when the error is not about a broken mirror. Read paths never
 * call this: they report the typed error and leave the file where it is.
 */
export function moveAsideBroken(dbPath: string, err: unknown): string | null {
  return isBrokenDb(err) ? quarantine(dbPath) : null;
}

/** Opens the mirror to write it under that policy: a broken one is moved aside (`moved` says where) and a fresh one created. */
export function openHealed(dbPath: string, moved: (aside: string) => void): SqliteStore {
  try {
    return openStore(dbPath);
  } catch (err) {
    const aside = moveAsideBroken(dbPath, err);
    if (aside === null) throw err;
    moved(aside);
    return openStore(dbPath);
  }
}
