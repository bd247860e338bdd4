import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { folderNames, historyDirOf } from '../ingest/layout.js';
import { parseStreamFile } from '../model/streams.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';

/** The stream a file of the directory feeds: costs.json (rewritten by Shipwright with a temp file and mv) feeds `costs`. */
export const streamOf = (name: string): string | undefined => (name === LEGACY_COSTS_FILE ? COSTS_STREAM : parseStreamFile(basename(name))?.stream);

/** Files stat'ed per look of the safety net: 2,000 quiet files are each looked at every few seconds for well under 1% of a core. */
export const STATS_PER_LOOK = 256;

/**
 * The tailer's view of the folder without events (Fluent Bit's tail_scan and
 * tail_fs_stat): the streams present, and which files changed since the last
 * look by a stat signature, the safety net under the watcher.
 */
export class DirScan {
  private readonly signatures = new Map<string, string>();
  private cursor = 0;
  /** The folders' log names as last listed, and the folders' mtimes then: a folder whose mtime holds has the same names. */
  private listed: { at: string; names: string[] } | undefined;

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

  /**
   * Streams with a file whose inode, size or mtime changed since it was last
   * looked at. New and vanished names are seen at every call; known files
   * are stat'ed `budget` at a time in turn, so the net's cost per call stays
   * flat however many quiet files the folder holds (the watcher is the
   * first line; this catches what it missed, a little later).
   */
  changed(budget = STATS_PER_LOOK): string[] {
    const out = new Set<string>();
    const names = this.logNames();
    const present = new Set(names);
    for (const name of [...this.signatures.keys()]) {
      if (present.has(name)) continue;
      this.signatures.delete(name);
      out.add(streamOf(name)!);
    }
    const look = (name: string): void => {
      const fst = statSync(join(this.dir, name), { throwIfNoEntry: false });
      const sig = fst ? `${fst.ino}:${fst.size}:${fst.mtimeMs}` : '';
      if (this.signatures.get(name) === sig) return;
      this.signatures.set(name, sig);
      out.add(streamOf(name)!);
    };
    const known = names.filter((n) => this.signatures.has(n));
    for (const n of names) if (!this.signatures.has(n)) look(n);
    const turn = Math.min(budget, known.length);
    for (let i = 0; i < turn; i++) look(known[(this.cursor + i) % known.length]!);
    this.cursor = known.length === 0 ? 0 : (this.cursor + turn) % known.length;
    return [...out];
  }

  /** Forget every signature: the next look reports every file. */
  reset(): void {
    this.signatures.clear();
    this.listed = undefined;
  }

  /** The wanted log names of the folders, listed again only when a folder's mtime moved (a name was added or removed). */
  private logNames(): string[] {
    const hist = historyDirOf(this.dir);
    const at = [this.dir, hist].map((d) => (d === undefined ? '' : String(statSync(d, { throwIfNoEntry: false })?.mtimeMs ?? ''))).join(':');
    if (this.listed?.at !== at) {
      const names = folderNames(this.dir).filter((n) => {
        const stream = streamOf(n);
        return stream !== undefined && this.wants(stream);
      });
      this.listed = { at, names };
    }
    return this.listed.names;
  }
}
