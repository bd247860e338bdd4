import type { Store } from '../store/open.js';
import { isPgStore } from '../store/pg/open.js';
import { pgExportSql, type HostScope } from '../store/pg/read-sql.js';
import { readPages } from '../store/pg/read-pages.js';
import type { ExportQuery } from '../store/read-sql.js';

export type ExportOptions = ExportQuery;

/** The mirrored events' original lines, streamed (the text is exactly the line's bytes without its newline). */
export function* exportLines(store: Store, o: ExportOptions & HostScope = {}): Generator<string> {
  if (isPgStore(store)) {
    const { sql, params } = pgExportSql(o);
    for (const row of readPages(store.pg, sql, params).rows) yield row[0] as string;
    return;
  }
  yield* store.exportLines(o);
}
