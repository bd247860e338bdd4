import { parseIntOption } from '../../values.js';
import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('tail')
    .description('keep the mirror current: catch up, then follow every stream (rotation, truncation, new files) until SIGINT/SIGTERM')
    .option('--stream <name...>', 'only these streams (default: all, new ones included)')
    .option('--poll', 'watch by polling (network filesystems without inotify)')
    .option('--poll-interval <ms>', 'the safety poll (and polling) interval', parseIntOption('--poll-interval'), 1000)
    .option('--feed', 'print each new event as a JSON line on stdout as it lands in the mirror, from any writer (every host of a fleet mirror); the exit summary then goes to stderr')
    .option('--tag-stream', 'with --feed: print {"stream":NAME,"event":LINE} ({"stream":NAME,"host":ID,"event":LINE} on a fleet mirror) instead of the bare line, so that several streams and hosts can be told apart')
    .option('--status-every <s>', 'print rows, the rate over the last s seconds, rejects and lag to stderr every s seconds (default: 10 on a terminal, else off)',
      parseIntOption('--status-every'))
    .action(action(() => import('../run/tail.js')));
}
