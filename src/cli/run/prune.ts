import { MirrorError } from '../../errors.js';
import { pruneHistory, type PruneResult } from '../../ops/prune.js';
import type { Run } from '../context.js';
import { refuseUnsupported } from '../../ops/place.js';
import { withStore } from '../../ops/mirror.js';
import { bytes, plural, table } from '../format.js';

function describe(r: PruneResult): string {
  if (r.sources.length === 0) return 'nothing to prune: every row comes from a file that is still there';
  const verb = r.dryRun ? 'would drop' : 'dropped';
  return [
    table(['stream', 'file', 'state', 'rows', 'rejects', 'stored'], r.sources.map((s) => [s.stream, s.path, s.state, s.rows, s.rejects, bytes(s.bytes)])),
    `${verb} ${plural(r.rows, 'row')} and ${plural(r.rejects, 'reject')} of ${plural(r.sources.length, 'file')} (${bytes(r.bytes)} stored)` +
      (r.dryRun ? '; run `jsonl-mirror prune --yes` to drop them' : '; SQLite reuses the space (VACUUM shrinks the file)'),
  ].join('\n');
}

export const run: Run = (g, o) => {
  refuseUnsupported(g.db, 'prune');
  const dryRun = Boolean(o.dryRun);
  if (!dryRun && !o.yes) {
    throw new MirrorError('INVALID_ARGUMENT', 'prune deletes history the files cannot give back: run `jsonl-mirror prune --dry-run` to see it, then `--yes`');
  }
  return withStore(g.db, { readonly: dryRun, mustExist: true }, (store) => {
    const r = pruneHistory(store, { dryRun, before: o.before as number | undefined, dir: g.dir });
    return { json: r, human: () => describe(r) };
  });
};
