import { isMirrorError } from '../errors.js';
import { FreshSqliteSource, MirrorBehind } from '../read/fresh-source.js';
import type { Engine, Store } from '../store/api.js';

// The local mirror's backend of a reader (caught up from the files before each read): its own module, so
// that a reader of the files or of a fleet's mirror never loads it.

export { FreshSqliteSource, MirrorBehind };

export function openForRead(engine: Engine, path: string, busyTimeoutMs: number): Store {
  try {
    return engine.open(path, { busyTimeoutMs });
  } catch (err) {
    // A mirror we may not write is still worth reading; it reports its lag.
    if (isMirrorError(err, 'DB_READONLY')) return engine.open(path, { readonly: true, busyTimeoutMs });
    throw err;
  }
}
