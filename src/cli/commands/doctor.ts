import type { Command } from 'commander';
import { doctor } from '../../ops/doctor.js';
import { assertDir } from '../../ingest/layout.js';
import { action } from '../context.js';
import { withStore } from '../../ops/mirror.js';
import { bytes, table } from '../format.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('integrity, schema, WAL size, lag, rejects, last import, tailer; exits non-zero on problems, each with its fix')
    .action(
      action((g) => {
        assertDir(g.dir);
        return withStore(g.db, { readonly: true }, (store) => {
          const r = doctor(store, g.dir);
          const human = [
            table(['check', 'ok', 'detail', 'fix'], r.checks.map((c) => [c.name, c.ok ? 'ok' : 'PROBLEM', c.detail, c.fix ?? ''])),
            `mirror ${g.db}: ${bytes(r.status.dbBytes)}`,
            r.ok ? 'no problems' : 'problems found: run the commands in the fix column',
          ].join('\n');
          return { json: r, human, exitCode: r.ok ? 0 : 1 };
        }, g.hostId);
      }),
    );
}
