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
    .action(action(() => import('../run/query.js')));
}
