import type { QueryRows, Store } from '../store/api.js';

/**
 * Ad-hoc SQL over the mirror, strictly read-only: the connection is opened
 * read-only, and the engine refuses anything it cannot prove is a read
 * before it runs.
 */
export function queryRows(store: Store, sql: string, params: unknown[] = []): QueryRows {
  return store.readQuery(sql, params);
}

/** queryRows, all at once. */
export function runQuery(store: Store, sql: string, params: unknown[] = []): Record<string, unknown>[] {
  return [...queryRows(store, sql, params).rows];
}
