import { openStore, type OpenOptions, type SqliteStore } from './open.js';
import { defaultHostId, isPgUrl, openPgStore, type PgStore } from './pg/open.js';

/** The mirror handle: either engine, told apart by `engine` (or isPgStore). */
export type Store = SqliteStore | PgStore;

export function isPgStore(store: Store): store is PgStore {
  return store.engine === 'postgres';
}

export interface MirrorOpenOptions extends OpenOptions {
  /** A PostgreSQL mirror: the host this process reads and writes as (default: the hostname). */
  hostId?: string;
}

/**
 * The one place that picks the engine from what --db names: a postgres://
 * URL is the fleet's PostgreSQL database, anything else a SQLite file. Both
 * give the same Store surface (the ingest and the ops run on either).
 */
export function openMirror(db: string, opts: MirrorOpenOptions = {}): Store {
  return isPgUrl(db) ? openPgStore(db, { hostId: opts.hostId ?? defaultHostId(), readonly: opts.readonly }) : openStore(db, opts);
}
