import { PgSource } from '../read/pg-source.js';
import { openPgStore } from '../store/pg/open.js';

// The PostgreSQL backend of a reader: its own module, so that a reader of a SQLite mirror or of the files never loads it.

/** The fleet mirror at `url`, read-only: every host's events, or `host`'s alone. */
export function pgSource(url: string, host: string | undefined) {
  const store = openPgStore(url, { readonly: true });
  return { store, src: new PgSource(store, host) };
}
