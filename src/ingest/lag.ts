import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/open.js';
import type { SourceRow } from '../store/statements.js';
import type { StreamFile } from './layout.js';

/** Bytes of a stream file after its source's checkpoint (all of it when unknown; none for a copytruncate copy). */
export function bytesBehind(store: Store, dir: string, f: StreamFile): number {
  const st = statSync(join(dir, f.name), { throwIfNoEntry: false });
  if (!st) return 0; // gone since the listing
  const src = store.sql.get('sourceByInode').get(f.stream, st.dev, st.ino) as SourceRow | undefined;
  if (src?.state === 'copy') return 0;
  return Math.max(0, st.size - (src?.offset ?? 0));
}
