import { engineOf } from '../store/engines.js';
import { createReaderWith, mirrorOf, type Reader, type ReaderOptions } from './reader-core.js';
import * as pg from './reader-pg.js';
import * as scan from './reader-scan.js';
import * as sqlite from './reader-sqlite.js';

export type { Reader, ReaderOptions, SourceChoice } from './reader-core.js';

/** A reader of every docs/metrics.md helper over whichever backend `opts` chooses (each backend loaded with it; ./reader-core.ts's loadReader loads only what `opts` can use). */
export function createReader(opts: ReaderOptions): Reader {
  return createReaderWith({ sqlite, pg, scan, engine: engineOf(mirrorOf(opts)) }, opts);
}
