import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { folderNames } from '../ingest/layout.js';
import { parseStreamFile } from '../model/streams.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';

/** The stream a file of the directory feeds: costs.json (rewritten by Shipwright with a temp file and mv) feeds `costs`. */
export const streamOf = (name: string): string | undefined => (name === LEGACY_COSTS_FILE ? COSTS_STREAM : parseStreamFile(basename(name))?.stream);

/**
 * The tailer's view of the folder without events (Fluent Bit's tail_scan and
 * tail_fs_stat): the streams present, and which files changed since the last
 * look by a stat signature, the safety net under the watcher.
 */
export class DirScan {
  private readonly signatures = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly wants: (stream: string) => boolean,
  ) {}

  streams(): string[] {
    const names = new Set<string>();
    for (const f of folderNames(this.dir)) {
      const stream = streamOf(f);
      if (stream && this.wants(stream)) names.add(stream);
    }
    return [...names];
  }

  /** Streams with a file whose inode, size or mtime changed since the last call. */
  changed(): string[] {
    const out = new Set<string>();
    for (const name of folderNames(this.dir)) {
      const stream = streamOf(name);
      if (!stream || !this.wants(stream)) continue;
      const fst = statSync(join(this.dir, name), { throwIfNoEntry: false });
      const sig = fst ? `${fst.ino}:${fst.size}:${fst.mtimeMs}` : '';
      if (this.signatures.get(name) !== sig) {
        this.signatures.set(name, sig);
        out.add(stream);
      }
    }
    return [...out];
  }

  /** Forget every signature: the next look reports every file. */
  reset(): void {
    this.signatures.clear();
  }
}
