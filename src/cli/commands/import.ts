import { parseIntOption } from '../../values.js';
import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('import')
    .description('mirror every log in --dir (rotated files and legacy costs.json too) into SQLite; safe to re-run and to interrupt')
    .option('--stream <name...>', 'only these streams (default: all)')
    .option('--final', 'the files are no longer written: ingest unterminated last lines too')
    .option('--max-line-bytes <n>', 'longer lines are rejected', parseIntOption('--max-line-bytes'))
    .option('--no-legacy', 'skip legacy JSON state (costs.json)')
    .option('--no-progress', 'no progress bar')
    .option('--verbose', 'list the streams imported (--json always does)')
    .action(action(() => import('../run/import.js'), { writes: true }));
}
