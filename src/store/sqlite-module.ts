import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { MirrorError } from '../errors.js';
import { betterSqlite3Driver } from './driver-better-sqlite3.js';
import { bunSqliteDriver, type BunDatabaseConstructor } from './driver-bun.js';
import type { DriverDatabase, DriverStatement, SqliteDriver } from './driver.js';

export type Database = DriverDatabase;
export type Statement = DriverStatement;

const require = createRequire(import.meta.url);
let loaded: SqliteDriver | MirrorError | undefined;

export const BUN_SQLITE = 'bun:sqlite';
const underBun = (): boolean => typeof process.versions.bun === 'string';

/** The driver module this runtime uses unless JSONL_MIRROR_SQLITE_MODULE names another. */
export const defaultSqliteModule = (): string => (underBun() ? BUN_SQLITE : 'better-sqlite3');

function howToFix(name: string): string {
  if (name === BUN_SQLITE) return 'bun:sqlite exists only under Bun: run under Bun, or unset JSONL_MIRROR_SQLITE_MODULE';
  if (underBun()) return `under Bun the mirror uses bun:sqlite: unset JSONL_MIRROR_SQLITE_MODULE (it names ${name})`;
  // npm 12 runs no install script a project has not approved, so a fresh install has no addon until it is.
  return 'its native addon is not built for this Node: approve its install script and build it (in your project: ' +
    '`npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3`; in a clone of jsonl-mirror: `npm ci`)';
}

/**
 * better-sqlite3's addon where its build leaves it, or undefined (then better-sqlite3 looks for it itself):
 * its own search, the `bindings` package, tries a dozen paths and costs every CLI start about 10 ms (issue #24).
 */
function builtAddon(): string | undefined {
  try {
    const path = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The SQLite driver, loaded on first use: better-sqlite3 is a native addon,
 * and a missing build or an ABI mismatch must not take the file-based paths
 * (append, scan reads) down with it, so a failure becomes a typed, cached
 * error. Under Bun the driver is bun:sqlite. JSONL_MIRROR_SQLITE_MODULE names
 * another module: `bun:sqlite`, or one with better-sqlite3's API (tests use
 * that to simulate a machine where the addon cannot be loaded).
 */
export function loadSqlite(): SqliteDriver {
  if (loaded === undefined) {
    const name = process.env.JSONL_MIRROR_SQLITE_MODULE || defaultSqliteModule();
    try {
      if (name === BUN_SQLITE) {
        loaded = bunSqliteDriver((require(name) as { Database: BunDatabaseConstructor }).Database);
      } else {
        const Database = require(name) as typeof BetterSqlite3;
        const nativeBinding = name === 'better-sqlite3' ? builtAddon() : undefined;
        // better-sqlite3 loads its addon at the first connection (and Bun loads only its JavaScript): a connection tells.
        // A module named by JSONL_MIRROR_SQLITE_MODULE is opened only as its caller meant.
        if (underBun() || name === 'better-sqlite3') new Database(':memory:', { nativeBinding }).close();
        loaded = betterSqlite3Driver(Database, name, nativeBinding);
      }
    } catch (err) {
      loaded = new MirrorError(
        'SQLITE_UNAVAILABLE',
        `cannot load ${name} (${(err as Error).message.split('\n')[0]}); ${howToFix(name)}; reads fall back to scanning the files`,
        { cause: err },
      );
    }
  }
  if (loaded instanceof MirrorError) throw loaded;
  return loaded;
}
