import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('query')
    .description('read-only SQL over the mirror (tables: events, rejects, sources, meta); refuses anything that writes')
    .argument('<sql>', 'one SELECT / WITH / EXPLAIN / read-only PRAGMA statement')
    .option('--csv', 'CSV with a header row')
    .option('--tsv', 'TSV with a header row (tab, newline and backslash escaped)')
    .option('--nl', 'one JSON object per line (NDJSON)')
    .option('--json-cols', 'with --json or --nl: a text column holding a JSON object or array is output as JSON, not as a string (the line column)')
    .option('--raw-lines', "each row's first column as it is, one per line (SELECT line ... --raw-lines | jq .stage)")
    .action(action(() => import('../run/query.js')));
}
