import type { Database } from './sqlite-module.js';
import { dropIndex, indexExists, PAIRS_PENDING, PRAGMA, SECONDARY_INDEXES, type SecondaryIndex } from './statements.js';

/**
 * Bulk load (issue #15): a first import or a rebuild loads many times the
 * rows the mirror holds, and maintaining the secondary indexes (SECONDARY_INDEXES) row by
 * row costs about half the insert time. A bulk load drops them, loads with
 * synchronous = OFF, and builds them sorted at the end. `indexes_pending` in
 * meta records that they are missing; it outlives an interrupted load, so the
 * next import (or the tailer at start) finishes them, and reads know to fall
 * back (or to plan without index hints) until then.
 */
export const INDEXES_PENDING = 'indexes_pending';

interface Meta {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  deleteMeta(key: string): void;
}

const NAMES = Object.keys(SECONDARY_INDEXES) as SecondaryIndex[];

/** Records the flag and drops the indexes in one transaction; later writes on this connection skip fsync. */
export function enterBulkLoad(db: Database, meta: Meta): void {
  db.transaction(() => {
    meta.setMeta(INDEXES_PENDING, JSON.stringify(NAMES));
    // Pairing issue by issue needs event_rows_issue, which goes now: every row is paired once the indexes are back.
    meta.setMeta(PAIRS_PENDING, '1');
    for (const name of NAMES) db.exec(dropIndex(name));
  }, 'immediate')();
  db.pragma(PRAGMA.synchronousOff);
}

/** Back to the durability every other writer has (an interrupted load leaves the flag for the next import). */
export function leaveBulkLoad(db: Database): void {
  db.pragma(PRAGMA.synchronousNormal);
}

/**
 * Builds each missing index in its own transaction and clears the flag with
 * the last one; the final checkpoint (fsync of WAL and file under NORMAL)
 * makes everything loaded without fsync durable before anyone relies on it.
 */
export function finishIndexes(db: Database, meta: Meta): void {
  leaveBulkLoad(db);
  const exists = db.prepare(indexExists, 'pluck');
  NAMES.forEach((name, i) => {
    db.transaction(() => {
      if (exists.get(name) === undefined) db.exec(SECONDARY_INDEXES[name]);
      if (i === NAMES.length - 1) meta.deleteMeta(INDEXES_PENDING);
    }, 'immediate')();
  });
  db.pragma(PRAGMA.walTruncate);
}
