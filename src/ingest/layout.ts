import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseStreamFile, type StreamFile } from '../model/streams.js';
import { MirrorError, option } from '../errors.js';

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
      `log directory ${dir} does not exist or is not a directory; pass ${option('dir')} with the folder that holds your *.jsonl files (or set JSONL_MIRROR_DIR)`,
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

/** The log folder's own settings file: where its rotated history lives is a property of the folder, shared by every tool. */
export const LAYOUT_FILE = 'jsonl-mirror.json';

const chosen = new Map<string, string | null>();

/**
 * Names the folder a log directory's rotated generations are moved to
 * (logrotate's `olddir`), for every listing of `dir` in this process; null
 * forgets it (the folder's jsonl-mirror.json applies again).
 */
export function useHistoryDir(dir: string, historyDir: string | null | undefined): void {
  if (historyDir === undefined) return;
  const key = resolve(dir);
  if (historyDir === null) chosen.delete(key);
  else chosen.set(key, resolve(key, historyDir));
}

const layoutCache = new Map<string, { mtimeMs: number; value: string | undefined }>();

/** The folder's jsonl-mirror.json, read again only when it changed: every listing asks for it. */
function fromLayoutFile(dir: string): string | undefined {
  const path = join(dir, LAYOUT_FILE);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return undefined;
  const cached = layoutCache.get(path);
  if (cached && cached.mtimeMs === st.mtimeMs) return cached.value;
  const value = readLayoutFile(dir);
  layoutCache.set(path, { mtimeMs: st.mtimeMs, value });
  return value;
}

function readLayoutFile(dir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, LAYOUT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MirrorError('INVALID_ARGUMENT', `${join(dir, LAYOUT_FILE)} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
  const h = (parsed as { historyDir?: unknown } | null)?.historyDir;
  if (h === undefined) return undefined;
  if (typeof h !== 'string' || h === '') {
    throw new MirrorError('INVALID_ARGUMENT', `${join(dir, LAYOUT_FILE)}: "historyDir" must be a folder path (relative to the log directory)`);
  }
  return resolve(dir, h);
}

/** The rotated-history folder of `dir`: the one chosen in this process (option, flag, environment), else its jsonl-mirror.json's `historyDir`. */
export function historyDirOf(dir: string): string | undefined {
  const key = resolve(dir);
  const set = chosen.get(key);
  if (set) return set;
  const env = process.env.JSONL_MIRROR_HISTORY_DIR;
  if (env) return isAbsolute(env) ? env : resolve(key, env);
  return fromLayoutFile(key);
}

/** The history folder's files, named relative to the log directory; a missing folder has none (logrotate creates it). */
function historyNames(dir: string): string[] {
  const hist = historyDirOf(dir);
  if (!hist || resolve(hist) === resolve(dir)) return [];
  let names: string[];
  try {
    names = readdirSync(hist);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new MirrorError('FILE_UNREADABLE', `cannot list the history folder ${hist} (${(err as Error).message}); check its permissions`, { cause: err });
  }
  const rel = relative(resolve(dir), hist);
  return names.map((n) => join(rel, n));
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function mtimeOf(dir: string, f: StreamFile): number {
  return statSync(join(dir, f.name), { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/**
 * A stream's generations oldest first: its rotated generations, then the live
 * file. Numbered ones by number (larger is older), dated ones by suffix
 * (logrotate requires dateformat to sort lexically in time order); a stream
 * with both kinds merges them by modification time. A generation and its
 * `.gz` are the same place (the plain one, not yet compressed, first).
 */
function order(dir: string, list: StreamFile[]): StreamFile[] {
  const live = list.filter((f) => f.rotation === 0);
  const numbered = list.filter((f) => f.number !== undefined);
  const dated = list.filter((f) => f.dated !== undefined);
  const plainFirst = (a: StreamFile, b: StreamFile): number => Number(a.compressed) - Number(b.compressed);
  numbered.sort((a, b) => b.number! - a.number! || plainFirst(a, b));
  dated.sort((a, b) => (a.dated! < b.dated! ? -1 : a.dated! > b.dated! ? 1 : plainFirst(a, b)));
  let rotated: StreamFile[];
  if (numbered.length === 0 || dated.length === 0) rotated = [...dated, ...numbered];
  else {
    const when = new Map([...numbered, ...dated].map((f) => [f, mtimeOf(dir, f)]));
    rotated = [];
    let i = 0;
    let j = 0;
    while (i < dated.length || j < numbered.length) {
      const takeDated = j >= numbered.length || (i < dated.length && when.get(dated[i]!)! <= when.get(numbered[j]!)!);
      rotated.push(takeDated ? dated[i++]! : numbered[j++]!);
    }
  }
  // Ranks for ingest: larger is older, the live file 0.
  return [...rotated.map((f, k) => ({ ...f, rotation: rotated.length - k })), ...live];
}

/** The names in the log directory and in its history folder (relative to the log directory). */
export function folderNames(dir: string): string[] {
  return [...listDir(dir), ...historyNames(dir)];
}

/** Every stream's generations on disk (the log directory and its history folder), each stream's oldest first. */
export function listStreams(dir: string): Map<string, StreamFile[]> {
  const byStream = new Map<string, StreamFile[]>();
  const add = (name: string, inHistory: boolean): void => {
    const f = parseStreamFile(baseName(name));
    // A live-named file in the history folder is no generation of the live one.
    if (!f || (inHistory && f.rotation === 0)) return;
    const list = byStream.get(f.stream) ?? [];
    list.push({ ...f, name });
    byStream.set(f.stream, list);
  };
  for (const name of listDir(dir)) add(name, false);
  for (const name of historyNames(dir)) add(name, true);
  for (const [stream, list] of byStream) byStream.set(stream, order(dir, list));
  return new Map([...byStream.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function streamFiles(dir: string, stream: string): StreamFile[] {
  return listStreams(dir).get(stream) ?? [];
}
