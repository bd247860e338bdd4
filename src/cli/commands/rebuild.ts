import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('rebuild')
    .description('build a fresh mirror from the files and swap it in atomically (readers and a tailer never see half of it)')
    .option('--yes', 'drop rows of deleted or truncated files without asking')
    .option('--final', 'ingest unterminated last lines too')
    .option('--no-progress', 'no progress bar')
    .action(action(() => import('../run/rebuild.js')));
}
