/** Shipwright's legacy cost state, followed as a stream of its own. */
export const LEGACY_COSTS_FILE = 'costs.json';
/** The stream costs.json entries land in (as cost.record events). */
export const COSTS_STREAM = 'costs';

/**
 * Stream naming (ARCHITECTURE.md): NAME.jsonl is the live file of stream
 * NAME, NAME.jsonl.N its rotated predecessors, a larger N being older.
 */
export interface StreamFile {
  stream: string;
  /** File name relative to the log directory. */
  name: string;
  /** 0 for the live file, N for NAME.jsonl.N. */
  rotation: number;
}

const FILE_RE = /^(.+)\.jsonl(?:\.(\d+))?$/;

export function parseStreamFile(name: string): StreamFile | undefined {
  const m = FILE_RE.exec(name);
  if (!m) return undefined;
  return { stream: m[1]!, name, rotation: m[2] === undefined ? 0 : Number(m[2]) };
}
