import type { Engine, MirrorOpenOptions, Store } from './api.js';
import { engineEntry, type EngineTitle } from './engine.js';
import { pgEngine } from './pg/engine.js';
import { sqliteEngine } from './sqlite-engine.js';

// Every engine, imported with this module: the library's front door, the ops, the writer and the import open
// whatever --db names synchronously. Who must not load every engine (the CLI's start, a SQLite read) asks
// engine.ts's loadEngine instead. Imported, not awaited at the top level: the CLI is also bundled as one
// CommonJS file (scripts/bundle-cli.mjs), which has no top-level await.
const ENGINE_OF: Record<EngineTitle, Engine> = { PostgreSQL: pgEngine, SQLite: sqliteEngine };

/** The engine `db` names, as engine.ts's registry tells them apart. */
export function engineOf(db: string): Engine {
  return ENGINE_OF[engineEntry(db).title];
}

/** The mirror `db` names: a SQLite file, or the fleet's PostgreSQL database scoped to this host. */
export function openMirror(db: string, opts: MirrorOpenOptions = {}): Store {
  return engineOf(db).open(db, opts);
}

// The engines' own open functions, for the library's callers that name one (src/index.ts).
export { openStore, type OpenOptions } from './open.js';
export { openPgStore, type PgOpenOptions, type PgStore } from './pg/open.js';
export { isPgUrl } from './engine.js';
