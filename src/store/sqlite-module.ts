import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { MirrorError } from '../errors.js';

export type DatabaseConstructor = typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;

const require = createRequire(import.meta.url);
let loaded: DatabaseConstructor | MirrorError | undefined;

/**
 * better-sqlite3 is a native addon: a missing build or an ABI mismatch must
 * not take the file-based paths (append, scan reads) down with it, so it is
 * loaded on first use and a failure becomes a typed, cached error.
 * JSONL_MIRROR_SQLITE_MODULE names another module to load; tests use it to
 * simulate a machine where the addon cannot be loaded.
 */
export function loadSqlite(): DatabaseConstructor {
  if (loaded === undefined) {
    const name = process.env.JSONL_MIRROR_SQLITE_MODULE || 'better-sqlite3';
    try {
      loaded = require(name) as DatabaseConstructor;
    } catch (err) {
      loaded = new MirrorError(
        'SQLITE_UNAVAILABLE',
        `cannot load ${name} (${(err as Error).message.split('\n')[0]}); ` +
          'reinstall with `npm ci` (it compiles the addon for this Node version); reads fall back to scanning the files',
        { cause: err },
      );
    }
  }
  if (loaded instanceof MirrorError) throw loaded;
  return loaded;
}
