import type { ExportQuery, HostScope, Store } from '../store/api.js';

export type ExportOptions = ExportQuery;

/** The mirrored events' original lines, streamed (the text is exactly the line's bytes without its newline). */
export function* exportLines(store: Store, o: ExportOptions & HostScope = {}): Generator<string> {
  yield* store.exportLines(o);
}
