import type { Command } from 'commander';
import { parseTime } from '../../values.js';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('the mirrored events as JSONL on stdout, each line byte-identical to the log line')
    .option('--stream <name...>', 'only these streams')
    .option('--since <when>', 'ts_epoch >= this (epoch seconds or ISO date)', parseTime('--since'))
    .option('--until <when>', 'ts_epoch < this', parseTime('--until'))
    .option('--sort <order>', 'file (default: oldest rotated file first, then byte offset) or time (log order)', 'file')
    .option('--host <id>', 'with a postgres:// --db: only this host (default: every host)')
    .action(action(() => import('../run/export.js')));
}
