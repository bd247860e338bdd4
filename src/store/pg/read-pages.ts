import type { SyncPg } from './bridge.js';
import { BEGIN_READ_ONLY, CLOSE_CURSOR, declareCursor, FETCH_PAGE, ROLLBACK } from './statements.js';

/**
 * One statement's rows through a cursor inside a READ ONLY transaction: the
 * server refuses any write the statement attempts, and memory stays flat
 * however many rows there are. The transaction ends when the rows do, or
 * when the caller stops early.
 */
export function readPages(pg: SyncPg, sql: string, params: unknown[] = []): { columns: string[]; rows: Generator<unknown[]> } {
  pg.query(BEGIN_READ_ONLY);
  let first: { fields: string[]; rows: unknown[][] };
  try {
    pg.query(declareCursor(sql), params);
    first = pg.table(FETCH_PAGE);
  } catch (err) {
    pg.query(ROLLBACK);
    throw err;
  }
  function* rows(): Generator<unknown[]> {
    try {
      let page = first.rows;
      while (page.length > 0) {
        yield* page;
        page = pg.arrays(FETCH_PAGE);
      }
      pg.query(CLOSE_CURSOR);
    } finally {
      pg.query(ROLLBACK);
    }
  }
  return { columns: first.fields, rows: rows() };
}

/** A statement a cursor cannot carry (EXPLAIN, SHOW; short answers), in a READ ONLY transaction. */
export function readOnce(pg: SyncPg, sql: string, params: unknown[] = []): { columns: string[]; rows: unknown[][] } {
  pg.query(BEGIN_READ_ONLY);
  try {
    const r = pg.table(sql, params);
    return { columns: r.fields, rows: r.rows };
  } finally {
    pg.query(ROLLBACK);
  }
}
