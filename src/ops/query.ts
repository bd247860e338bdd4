import { MirrorError } from '../errors.js';
import { isPgStore, type Store } from '../store/engine.js';
import type { PgStore } from '../store/pg/open.js';

/** PRAGMAs that only read; any other, and any PRAGMA with "=", is refused. */
const READ_PRAGMAS = new Set([
  'table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'integrity_check',
  'quick_check', 'page_count', 'page_size', 'freelist_count', 'user_version', 'schema_version', 'database_list',
  'compile_options', 'function_list', 'pragma_list', 'collation_list', 'encoding', 'journal_mode', 'data_version',
]);

function refuse(why: string): never {
  throw new MirrorError('INVALID_ARGUMENT', `query refused: ${why}; \`query\` only reads (SELECT, WITH, EXPLAIN, read-only PRAGMAs)`);
}

/** Strips comments and string literals so the checks below see only SQL keywords. */
function keywordsOf(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .trim();
}

export interface QueryRows {
  /** The result's column names, known before the first row. */
  columns: string[];
  /** The rows, one at a time: memory stays flat however many there are. */
  rows: Iterable<Record<string, unknown>>;
}

/**
 * Ad-hoc SQL over the mirror, strictly read-only: the connection is opened
 * read-only, and anything that is not a read is refused before it runs.
 */
export function queryRows(store: Store, sql: string, params: unknown[] = []): QueryRows {
  const bare = keywordsOf(sql);
  if (bare === '') refuse('empty SQL');
  if (isPgStore(store)) return pgQueryRows(store, sql, bare, params);
  if (/\bload_extension\s*\(/i.test(bare)) refuse('loading extensions');
  if (/^\s*(ATTACH|DETACH)\b/i.test(bare)) refuse('ATTACH and DETACH change the connection');
  if (/^\s*VACUUM\b/i.test(bare)) refuse('VACUUM writes');
  const pragma = /^\s*PRAGMA\s+(?:\w+\.)?(\w+)\s*(=|\()?/i.exec(bare);
  if (pragma) {
    if (pragma[2] === '=' || !READ_PRAGMAS.has(pragma[1]!.toLowerCase())) refuse(`the PRAGMA ${pragma[1]} can change settings`);
  }
  let stmt;
  try {
    stmt = store.adHoc(sql);
  } catch (err) {
    const msg = (err as Error).message;
    if (/more than one statement/i.test(msg)) refuse('multiple statements');
    throw new MirrorError('INVALID_ARGUMENT', `SQL error: ${msg}`);
  }
  if (stmt.writes) refuse('the statement writes');
  if (!stmt.returnsRows) return { columns: [], rows: [] };
  const statement = stmt;
  function* rows(): Generator<Record<string, unknown>> {
    try {
      yield* statement.iterate(params);
    } catch (err) {
      throw new MirrorError('INVALID_ARGUMENT', `SQL error: ${(err as Error).message}`);
    }
  }
  return { columns: statement.columns(), rows: rows() };
}

/** queryRows, all at once. */
export function runQuery(store: Store, sql: string, params: unknown[] = []): Record<string, unknown>[] {
  return [...queryRows(store, sql, params).rows];
}

/**
 * PostgreSQL: one read statement (SELECT, WITH, VALUES, TABLE, EXPLAIN,
 * SHOW), run inside a READ ONLY transaction of a read-only session, so the
 * server itself refuses a write that slipped past these checks.
 */
function pgQueryRows(store: PgStore, sql: string, bare: string, params: unknown[]): QueryRows {
  if (/;\s*\S/.test(bare)) refuse('multiple statements');
  const head = /^\s*\(*\s*(\w+)/.exec(bare)?.[1]?.toUpperCase() ?? '';
  if (!['SELECT', 'WITH', 'VALUES', 'TABLE', 'EXPLAIN', 'SHOW'].includes(head)) refuse(`${head || 'this statement'} is not a read`);
  const text = sql.replace(/;\s*$/, '');
  let pages: { columns: string[]; rows: Iterable<unknown[]> };
  try {
    pages = store.readOnly(text, params, head === 'EXPLAIN' || head === 'SHOW');
  } catch (err) {
    throw new MirrorError('INVALID_ARGUMENT', `SQL error: ${(err as Error).message}`);
  }
  const { columns } = pages;
  function* rows(): Generator<Record<string, unknown>> {
    for (const r of pages.rows) yield Object.fromEntries(columns.map((c, i) => [c, r[i]]));
  }
  return { columns, rows: rows() };
}
