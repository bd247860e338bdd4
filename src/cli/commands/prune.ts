import { parseTime } from '../../values.js';
import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('prune')
    .description('drop the rows of files that are gone (deleted, or truncated with no copy left), kept as history until now')
    .option('--dry-run', 'list what would be dropped, change nothing')
    .option('--yes', 'drop them (required unless --dry-run)')
    .option('--before <when>', 'only files whose newest event is older than this (epoch seconds or ISO date)', parseTime('--before'))
    .action(action(() => import('../run/prune.js'), { writes: true }));
}
