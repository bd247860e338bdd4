import { MirrorError } from '../errors.js';
import type { QueryRows } from './api.js';

// `jsonl-mirror query`: a user's SQL, refused unless it provably only reads. Each engine knows its own dialect's
// ways to write; what they share is how a refusal reads and that comments and strings never count as keywords.

/** PRAGMAs that only read; any other, and any PRAGMA with "=", is refused. */
const READ_PRAGMAS = new Set([
  'table_info', 'table_xinfo', 'table_list', 'index_list', 'index_info', 'index_xinfo', 'foreign_key_list', 'integrity_check',
  'quick_check', 'page_count', 'page_size', 'freelist_count', 'user_version', 'schema_version', 'database_list',
  'compile_options', 'function_list', 'pragma_list', 'collation_list', 'encoding', 'journal_mode', 'data_version',
]);

export function refuse(why: string): never {
  throw new MirrorError('INVALID_ARGUMENT', `query refused: ${why}; \`query\` only reads (SELECT, WITH, EXPLAIN, read-only PRAGMAs)`);
}

/** The SQL without comments and string literals, so the checks see only keywords; refused when nothing is left. */
export function keywordsOf(sql: string): string {
  const bare = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .trim();
  if (bare === '') refuse('empty SQL');
  return bare;
}

/** What an ad-hoc statement is, before it runs (SqliteStore.adHoc). */
export interface AdHocStatement {
  readonly writes: boolean;
  readonly returnsRows: boolean;
  columns(): string[];
  iterate(params: unknown[]): IterableIterator<Record<string, unknown>>;
}

/** SQLite: what could change the connection or the file is refused before it is prepared, a statement that writes after. */
export function sqliteReadQuery(prepare: (sql: string) => AdHocStatement, sql: string, params: unknown[]): QueryRows {
  const bare = keywordsOf(sql);
  if (/\bload_extension\s*\(/i.test(bare)) refuse('loading extensions');
  if (/^\s*(ATTACH|DETACH)\b/i.test(bare)) refuse('ATTACH and DETACH change the connection');
  if (/^\s*VACUUM\b/i.test(bare)) refuse('VACUUM writes');
  const pragma = /^\s*PRAGMA\s+(?:\w+\.)?(\w+)\s*(=|\()?/i.exec(bare);
  if (pragma) {
    if (pragma[2] === '=' || !READ_PRAGMAS.has(pragma[1]!.toLowerCase())) refuse(`the PRAGMA ${pragma[1]} can change settings`);
  }
  let stmt;
  try {
    stmt = prepare(sql);
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
