import type { Command } from 'commander';
import { rebuildMirror } from '../../ops/rebuild.js';
import { progressHooks } from '../progress.js';
import { describe as describeImport } from './import.js';
import { assertDir } from '../../ingest/layout.js';
import { action, sqliteOnly } from '../context.js';
import { plural } from '../format.js';

export function register(program: Command): void {
  program
    .command('rebuild')
    .description('build a fresh mirror from the files and swap it in atomically (readers and a tailer never see half of it)')
    .option('--yes', 'drop rows of deleted or truncated files without asking')
    .option('--final', 'ingest unterminated last lines too')
    .option('--no-progress', 'no progress bar')
    .action(
      action(async (g, o) => {
        sqliteOnly(g, 'rebuild');
        assertDir(g.dir);
        const progress = progressHooks(Boolean(o.progress) && !g.json, 'rebuild');
        try {
          const r = await rebuildMirror(g.dir, g.db, { yes: Boolean(o.yes), final: Boolean(o.final), ...progress.hooks });
          const extra = [
            r.movedAside ? `the broken mirror was moved aside to ${r.movedAside}` : '',
            r.droppedHistoryRows ? `${plural(r.droppedHistoryRows, 'row')} of deleted files dropped` : '',
          ].filter(Boolean);
          return { json: r, human: [`rebuilt: ${describeImport(r, g.db)}`, ...extra].join('\n') };
        } finally {
          progress.stop();
        }
      }),
    );
}
