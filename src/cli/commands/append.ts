import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('append')
    .description('append an event to DIR/STREAM.jsonl (the file first), then mirror it into SQLite within a small budget')
    .argument('<stream>', 'stream name: the event goes to STREAM.jsonl (STREAM.jsonl itself is taken as STREAM)')
    .argument('[json]', "the event as a JSON object; '-' reads one event per line from stdin")
    .option('--fsync <when>', 'none (default), always, or an interval in ms')
    .option('--no-mirror', 'append to the file only')
    .option('--quiet', 'print nothing on success (refusals and errors still go to stderr)')
    .action(action(() => import('../run/append.js')));
}
