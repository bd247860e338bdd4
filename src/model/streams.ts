/** Shipwright's legacy cost state, followed as a stream of its own. */
export const LEGACY_COSTS_FILE = 'costs.json';
/** The stream costs.json entries land in (as cost.record events). */
export const COSTS_STREAM = 'costs';

/**
 * Stream naming: NAME.jsonl is the live file of stream NAME; its rotated
 * generations are named as the rotation tools name them: NAME.jsonl.N
 * (a larger N is older), NAME.jsonl-SUFFIX (logrotate's `dateext`, any
 * `dateformat`), and either with `.gz` (logrotate's `compress`).
 */
export interface StreamFile {
  stream: string;
  /** File name relative to the log directory (a history folder's files carry its relative path). */
  name: string;
  /** 0 for the live file; for a rotated generation, its place among the stream's (assigned by the listing, larger is older). */
  rotation: number;
  /** NAME.jsonl.N: N; otherwise undefined. */
  number?: number;
  /** NAME.jsonl-SUFFIX: the suffix, which logrotate requires to sort lexically in time order. */
  dated?: string;
  /** A gzip archive of a generation. */
  compressed: boolean;
}

const FILE_RE = /^(.+)\.jsonl(?:\.(\d+)|-([\w.:+-]*\d[\w.:+-]*?))?(\.gz)?$/;

export function parseStreamFile(name: string): StreamFile | undefined {
  const m = FILE_RE.exec(name);
  if (!m) return undefined;
  const [, stream, number, dated, gz] = m;
  // A bare NAME.jsonl.gz is no generation any rotation tool makes.
  if (number === undefined && dated === undefined && gz) return undefined;
  // A date ending in another extension is another compressor's archive (.xz, .zst, .bz2) or a temporary file (.tmp):
  // not something to read as lines. logrotate's own `.backup` (a log it found recreated mid-rotation) is a generation.
  if (dated !== undefined && /\.[a-z][a-z0-9]*$/i.test(dated) && !dated.endsWith('.backup')) return undefined;
  return {
    stream: stream!,
    name,
    rotation: number !== undefined ? Number(number) : dated !== undefined ? 1 : 0,
    ...(number !== undefined ? { number: Number(number) } : {}),
    ...(dated !== undefined ? { dated } : {}),
    compressed: gz !== undefined,
  };
}
