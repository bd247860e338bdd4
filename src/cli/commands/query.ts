import type { Command } from 'commander';
import { queryRows } from '../../ops/query.js';
import { action } from '../context.js';
import { queryOnly, withStore } from '../../ops/mirror.js';
import { rowFormatOf, rowWriter } from '../format.js';

export function register(program: Command): void {
  program
    .command('query')
    .description('read-only SQL over the mirror (tables: events, rejects, sources, meta); refuses anything that writes')
    .argument('<sql>', 'one SELECT / WITH / EXPLAIN / read-only PRAGMA statement')
    .option('--csv', 'CSV with a header row')
    .option('--tsv', 'TSV with a header row (tab, newline and backslash escaped)')
    .option('--nl', 'one JSON object per line (NDJSON)')
    .action(
      action((g, o, args) => {
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
      }),
    );
}
