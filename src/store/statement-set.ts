import type { SqlName } from './statements.js';

/** One prepared statement, as both engines run it: the caller's parameters in the SQLite statement's order. */
export interface Stmt {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}

/**
 * What an engine gives the typed operations of store.ts: the named
 * statements of statements.ts (prepared once, on first use) and a write
 * transaction (SQLite's BEGIN IMMEDIATE, PostgreSQL's host write lock).
 */
export interface StatementSet {
  stmt(name: SqlName): Stmt;
  /** Wraps fn once; the Store caches the wrapper per function. */
  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R;
  close(): void;
}
