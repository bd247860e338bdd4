import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MirrorError } from '../errors.js';
import { listStreams } from '../ingest/layout.js';
import { LEGACY_COSTS_FILE } from '../model/streams.js';
import { isMirrorFile } from '../ops/place.js';
import type { GlobalOptions } from './context.js';

/**
 * A folder with no logs and no mirror is almost always the wrong --dir:
 * answering (zeros, DORA grades of nothing) or creating a mirror there would
 * hide that. `what` says what was not done. A fleet mirror holds other
 * machines' rows, so it lets metrics answer, but gives an import nothing to read.
 */
export function refuseEmptyFolder(g: GlobalOptions, what: string, fleetCounts: boolean): void {
  const file = isMirrorFile(g.db);
  const mirror = file ? existsSync(g.db) : fleetCounts;
  if (mirror || listStreams(g.dir).size > 0 || existsSync(join(g.dir, LEGACY_COSTS_FILE))) return;
  const none = `no logs in ${g.dir} (no NAME.jsonl files, no ${LEGACY_COSTS_FILE})${file ? ' and no mirror' : ''}`;
  throw new MirrorError('DIR_MISSING', `${none}; ${what}. ` +
    'Pass --dir with the folder that holds your *.jsonl files (or set JSONL_MIRROR_DIR)');
}
