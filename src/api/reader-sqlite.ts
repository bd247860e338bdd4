import { isMirrorError } from '../errors.js';
import { FreshSqliteSource, MirrorBehind } from '../read/fresh-source.js';
import { openStore, translateOpenError, type SqliteStore } from '../store/open.js';
import { isBrokenDb } from '../store/quarantine.js';

// The SQLite backend of a reader: its own module, so that a reader of the files or of PostgreSQL never loads it.

export { FreshSqliteSource, isBrokenDb, MirrorBehind, translateOpenError };

export function openForRead(path: string, busyTimeoutMs: number): SqliteStore {
  try {
    return openStore(path, { busyTimeoutMs });
  } catch (err) {
    // A mirror we may not write is still worth reading; it reports its lag.
    if (isMirrorError(err, 'DB_READONLY')) return openStore(path, { readonly: true, busyTimeoutMs });
    throw err;
  }
}
