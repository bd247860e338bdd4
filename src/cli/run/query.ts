import { queryRows } from '../../ops/query.js';
import type { Run } from '../context.js';
import { queryOnly, withStore } from '../../ops/mirror.js';
import { MirrorError } from '../../errors.js';
import { rowFormatOf, rowWriter } from '../format.js';
import { Chunked } from '../output.js';

/** sqlite-utils' --json-cols: text that is a JSON object or array is the value it holds. */
function withJsonCols(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'string' && (v.startsWith('{') || v.startsWith('['))) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // text that only looks like JSON stays text
      }
    }
    out[k] = v;
  }
  return out;
}

export const run: Run = (g, o, args) => {
  const raw = Boolean(o.rawLines);
  if (raw && (g.json || o.nl || o.csv || o.tsv)) throw new MirrorError('INVALID_ARGUMENT', '--raw-lines prints the first column alone: give it without --json, --nl, --csv or --tsv');
  const format = raw ? 'nl' : rowFormatOf(g.json, o);
  if (o.jsonCols && format !== 'json' && format !== 'nl') throw new MirrorError('INVALID_ARGUMENT', '--json-cols goes with --json or --nl');
  return withStore(g.db, { readonly: true }, (store) => {
    // PostgreSQL: a read-only session, and each query in its own READ ONLY transaction.
    queryOnly(store);
    const { columns, rows } = queryRows(store, args[0]!);
    if (raw) {
      const first = columns[0];
      const lines = new Chunked();
      for (const row of rows) if (!lines.write(`${row[first!] ?? ''}\n`)) break;
      lines.flush();
      return { json: null, printed: true };
    }
    const out = rowWriter(format, columns);
    for (const row of rows) if (!out.row(o.jsonCols ? withJsonCols(row) : row)) break;
    out.end();
    return { json: null, printed: true };
  }, g.hostId);
};
