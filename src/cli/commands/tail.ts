import type { Command } from 'commander';
import { createTailer } from '../../tailer/tailer.js';
import { action, note, parseIntOption } from '../context.js';
import { count } from '../format.js';

export function register(program: Command): void {
  program
    .command('tail')
    .description('keep the mirror current: catch up, then follow every stream (rotation, truncation, new files) until SIGINT/SIGTERM')
    .option('--stream <name...>', 'only these streams (default: all, new ones included)')
    .option('--poll', 'watch by polling (network filesystems without inotify)')
    .option('--poll-interval <ms>', 'the safety poll (and polling) interval', parseIntOption('--poll-interval'), 1000)
    .option('--feed', 'print each new event as a JSON line on stdout as it lands in SQLite')
    .action(
      action(async (g, o) => {
        const tailer = createTailer({
          dir: g.dir, db: g.db, streams: o.stream as string[] | undefined, polling: Boolean(o.poll), pollIntervalMs: o.pollInterval as number,
        });
        await tailer.start();
        if (o.feed) tailer.subscribe((b) => { for (const e of b.events) process.stdout.write(`${JSON.stringify(e)}\n`); });
        note(`jsonl-mirror: tailing ${g.dir} into ${g.db}; Ctrl-C to stop`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await tailer.stop();
        const s = tailer.stats();
        return {
          json: { rows: s.rows, rejects: s.rejects, rowsPerSecond: s.rowsPerSecond, startedAt: s.startedAt },
          human: `stopped: mirrored ${count(s.rows)} events and ${count(s.rejects)} rejected lines since ${s.startedAt}`,
        };
      }),
    );
}
