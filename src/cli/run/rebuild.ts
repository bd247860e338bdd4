import { rebuildMirror } from '../../ops/rebuild.js';
import { progressHooks } from '../progress.js';
import { describe as describeImport } from './import.js';
import { assertDir } from '../../ingest/layout.js';
import type { Run } from '../context.js';
import { refuseUnsupported } from '../../ops/place.js';
import { plural } from '../format.js';

export const run: Run = async (g, o) => {
  refuseUnsupported(g.db, 'rebuild');
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
};
