import { Option, type Command } from 'commander';
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
    .option('--from-host <id>', 'with a postgres:// --db: only the events of this host (default: every host)')
    // --host was this filter's first name; it also names serve's bind address, so it is kept only as a hidden alias.
    .addOption(new Option('--host <id>').hideHelp())
    .action(action(() => import('../run/export.js')));
}
