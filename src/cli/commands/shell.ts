import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('shell-init')
    .description('print a bash function, jm_emit TYPE key=value ..., that appends one JSON line per call without starting Node')
    .option('--stream <name>', 'the stream jm_emit writes (its file is DIR/NAME.jsonl; $JM_LOG overrides it)', 'events')
    .action(action(() => import('../run/shell.js')));
}
