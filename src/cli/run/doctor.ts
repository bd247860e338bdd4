import { doctor } from '../../ops/doctor.js';
import { assertDir } from '../../ingest/layout.js';
import type { Run } from '../context.js';
import { withStore } from '../../ops/mirror.js';
import { bytes, table } from '../format.js';

export const run: Run = (g) => {
  assertDir(g.dir);
  return withStore(g.db, { readonly: true }, (store) => {
    const r = doctor(store, g.dir);
    // A fix is a command to copy: it goes whole on a line of its own below the table, not wrapped in a column.
    const fixes = r.checks.filter((c) => c.fix).map((c) => `  ${c.name}: ${c.fix}`);
    const human = () => [
      table(['check', 'ok', 'detail'], r.checks.map((c) => [c.name, c.ok ? 'ok' : 'PROBLEM', c.detail])),
      ...(fixes.length ? ['to fix:', ...fixes] : []),
      `mirror ${g.db}: ${bytes(r.status.dbBytes)}`,
      r.ok ? 'no problems' : 'problems found: run the commands under "to fix"',
    ].join('\n');
    return { json: r, human, exitCode: r.ok ? 0 : 1 };
  }, g.hostId);
};
