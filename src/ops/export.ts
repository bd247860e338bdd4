import type { Store } from '../store/open.js';
import { exportSql, type ExportQuery } from '../store/read-sql.js';

export type ExportOptions = ExportQuery;

/** The mirrored events' original lines, streamed (the text is exactly the line's bytes without its newline). */
export function* exportLines(store: Store, o: ExportOptions = {}): Generator<string> {
  const { sql, params } = exportSql(o);
  for (const row of store.sql.shape(sql).pluck().iterate(...params)) yield row as string;
}
