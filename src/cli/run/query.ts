import { queryRows } from '../../ops/query.js';
import type { Run } from '../context.js';
import { queryOnly, withStore } from '../../ops/mirror.js';
import { rowFormatOf, rowWriter } from '../format.js';

export const run: Run = (g, o, args) => {
  const format = rowFormatOf(g.json, o);
  return withStore(g.db, { readonly: true }, (store) => {
    // PostgreSQL: a read-only session, and each query in its own READ ONLY transaction.
    queryOnly(store);
    const { columns, rows } = queryRows(store, args[0]!);
    const out = rowWriter(format, columns);
    for (const row of rows) if (!out.row(row)) break;
    out.end();
    return { json: null, printed: true };
  }, g.hostId);
};
