import { MirrorError } from '../../errors.js';
import type { QueryRows } from '../api.js';
import { keywordsOf, refuse } from '../ad-hoc.js';

/**
 * PostgreSQL: one read statement (SELECT, WITH, VALUES, TABLE, EXPLAIN,
 * SHOW), run inside a READ ONLY transaction of a read-only session, so the
 * server itself refuses a write that slipped past these checks.
 */
export function pgReadQuery(
  read: (sql: string, params: unknown[], once: boolean) => { columns: string[]; rows: Iterable<unknown[]> },
  sql: string,
  params: unknown[],
): QueryRows {
  const bare = keywordsOf(sql);
  if (/;\s*\S/.test(bare)) refuse('multiple statements');
  const head = /^\s*\(*\s*(\w+)/.exec(bare)?.[1]?.toUpperCase() ?? '';
  if (!['SELECT', 'WITH', 'VALUES', 'TABLE', 'EXPLAIN', 'SHOW'].includes(head)) refuse(`${head || 'this statement'} is not a read`);
  const text = sql.replace(/;\s*$/, '');
  let pages: { columns: string[]; rows: Iterable<unknown[]> };
  try {
    // A cursor cannot carry EXPLAIN or SHOW: those are read at once.
    pages = read(text, params, head === 'EXPLAIN' || head === 'SHOW');
  } catch (err) {
    throw new MirrorError('INVALID_ARGUMENT', `SQL error: ${(err as Error).message}`);
  }
  const { columns } = pages;
  function* rows(): Generator<Record<string, unknown>> {
    for (const r of pages.rows) yield Object.fromEntries(columns.map((c, i) => [c, r[i]]));
  }
  return { columns, rows: rows() };
}
