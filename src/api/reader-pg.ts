import { MirrorSource } from '../read/mirror-source.js';
import type { Engine } from '../store/api.js';

// The fleet mirror's backend of a reader: its own module, so that a reader of a local mirror or of the files never loads it.

/** The fleet mirror at `url`, read-only: every host's events, or `host`'s alone. */
export function pgSource(engine: Engine, url: string, host: string | undefined) {
  const store = engine.open(url, { readonly: true });
  return { store, src: new MirrorSource(store, { kind: 'postgres', host, remote: true }) };
}
