import type { MirrorOpenOptions, Store } from './api.js';
import { loadEngines } from './engine.js';

// Every engine, loaded before this module's importers run: the library's front door, the ops, the writer and the
// import open whatever --db names synchronously. Who must not load every engine (the CLI's start, a SQLite read)
// asks engine.ts's loadEngine instead.

export const engineOf = await loadEngines();

/** The mirror `db` names: a SQLite file, or the fleet's PostgreSQL database scoped to this host. */
export function openMirror(db: string, opts: MirrorOpenOptions = {}): Store {
  return engineOf(db).open(db, opts);
}

// The engines' own open functions, for the library's callers that name one (src/index.ts).
export { openStore, type OpenOptions } from './open.js';
export { openPgStore, type PgOpenOptions, type PgStore } from './pg/open.js';
export { isPgUrl } from './engine.js';
