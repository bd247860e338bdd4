import { readdirSync, statSync } from 'node:fs';
import { parseStreamFile, type StreamFile } from '../model/streams.js';
import { MirrorError } from '../errors.js';

export function assertDir(dir: string): void {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new MirrorError(
      'DIR_MISSING',
      `log directory ${dir} does not exist or is not a directory; pass --dir with the folder that holds your *.jsonl files (or set JSONL_MIRROR_DIR)`,
    );
  }
}

function listDir(dir: string): string[] {
  assertDir(dir);
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new MirrorError('FILE_UNREADABLE', `cannot list ${dir} (${(err as Error).message}); check its permissions`, {
      cause: err,
    });
  }
}

/** Every stream's files, oldest first (highest rotation number first, live file last). */
export function listStreams(dir: string): Map<string, StreamFile[]> {
  const byStream = new Map<string, StreamFile[]>();
  for (const name of listDir(dir)) {
    const f = parseStreamFile(name);
    if (!f) continue;
    const list = byStream.get(f.stream) ?? [];
    list.push(f);
    byStream.set(f.stream, list);
  }
  for (const list of byStream.values()) list.sort((a, b) => b.rotation - a.rotation);
  return new Map([...byStream.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function streamFiles(dir: string, stream: string): StreamFile[] {
  return listStreams(dir).get(stream) ?? [];
}
