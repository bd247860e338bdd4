import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HostStatus, Store } from '../store/api.js';
import { bytes } from '../units.js';
import type { SourceRow } from '../store/rows.js';
import { listStreams } from '../ingest/layout.js';
import { lagBytes, unterminatedBytes } from '../ingest/lag.js';
import { missingSources, statAtPath } from '../ingest/sources.js';
import type { ImportSummary } from '../import/import.js';
import type { TailerOwner } from '../tailer/lock.js';
import { tailerHolder } from '../tailer/live-tailer.js';
import { prunable } from './prune.js';

export interface FileStatus {
  path: string;
  stream: string;
  /** gone: deleted (also when no ingest has noticed yet); compressed: its file is gone but a `.gz` of it on disk holds its lines. */
  state: SourceRow['state'] | 'unmirrored' | 'compressed';
  generation: number;
  size: number | null;
  checkpoint: number;
  behindBytes: number;
  /** Of behindBytes, those in an unterminated last line: an import leaves them until the line ends (or `import --final`). */
  unterminatedBytes: number;
  rows: number;
  rejects: number;
}

export interface MirrorStatus {
  db: string;
  /** SQLite's quick_check: "ok", or what is damaged (then `rebuild`). */
  integrity: string;
  dbBytes: number;
  schemaVersion: number;
  files: FileStatus[];
  totals: { events: number; rejects: number; behindBytes: number; unterminatedBytes: number; goneSources: number; historyRows: number };
  rejectsByReason: Record<string, number>;
  lastImport: Pick<ImportSummary, 'completedAt' | 'rows' | 'rejects' | 'seconds'> | null;
  mirrorSkips: number;
  /** What `prune` would drop: rows of gone files and the bytes of their lines. */
  prunable: { rows: number; bytes: number };
  /** The tailer following this mirror, if one runs. */
  tailer: TailerOwner | null;
  /** A bulk import dropped the secondary indexes and has not built them again (interrupted, or still loading). */
  indexesPending: boolean;
  /** A PostgreSQL mirror: this machine's host id and every host's totals. */
  fleet?: { host: string; hosts: HostStatus[] };
}

/** Bytes after the file's last newline, looking no further back than `from`. */
function unterminated(path: string, from: number, size: number): number {
  if (size <= from) return 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    return unterminatedBytes(fd, from, size);
  } finally {
    closeSync(fd);
  }
}

/** What the mirror holds and how far behind the files it is; reads only. */
export function mirrorStatus(store: Store, dir: string): MirrorStatus {
  const sources = store.allSources();
  const deleted = missingSources(store, dir);
  const missing = new Set(deleted.map((s) => s.id));
  const byId = new Map(sources.map((s) => [s.id, s]));
  // A generation whose file is gone or was truncated, but whose lines an archive on disk holds (through any chain of
  // copies: a copytruncate copy compressed later), is compressed, not lost.
  const archived = new Set<number>();
  for (const c of sources) {
    if (c.state !== 'active' && c.state !== 'copy') continue;
    if (!c.path.endsWith('.gz')) continue;
    for (let p = c.copy_of === null ? undefined : byId.get(c.copy_of), depth = 0; p && depth < 64; depth++) {
      archived.add(p.id);
      p = p.copy_of === null ? undefined : byId.get(p.copy_of);
    }
  }
  const stateOf = (s: SourceRow): FileStatus['state'] => {
    const state = missing.has(s.id) ? 'gone' : s.state;
    return (state === 'gone' || state === 'replaced') && archived.has(s.id) ? 'compressed' : state;
  };
  const files: FileStatus[] = [];
  const known = new Set<string>();
  let historyRows = 0;
  for (const s of sources) {
    if (s.state === 'copy') {
      // Its lines are all held by an earlier generation: nothing of its own to show, and nothing behind.
      const held = s.kind === 'jsonl' ? statAtPath(dir, s) : undefined;
      if (held) known.add(`${held.dev}:${held.ino}`);
      continue;
    }
    const state = stateOf(s);
    const st = s.kind === 'jsonl' && state === 'active' ? statAtPath(dir, s) : undefined;
    // An archive's checkpoint counts its content's bytes: so does its size here.
    const size = st ? (s.path.endsWith('.gz') ? s.size : st.size) : null;
    if (state === 'gone' || state === 'replaced') historyRows += s.rows;
    if (st) known.add(`${st.dev}:${st.ino}`);
    files.push({
      path: s.path,
      stream: s.stream,
      state,
      generation: s.generation,
      size,
      checkpoint: s.offset,
      behindBytes: size === null ? 0 : lagBytes(size, s),
      unterminatedBytes: size === null || s.path.endsWith('.gz') ? 0 : unterminated(join(dir, s.path), s.offset, size),
      rows: s.rows,
      rejects: s.rejects,
    });
  }
  for (const list of listStreams(dir).values()) {
    for (const f of list) {
      try {
        const st = statSync(join(dir, f.name));
        if (known.has(`${st.dev}:${st.ino}`) || !st.isFile()) continue; // a FIFO or directory is not a log: the ingest skips it
        files.push({ path: f.name, stream: f.stream, state: 'unmirrored', generation: 0, size: st.size,
          checkpoint: 0, behindBytes: st.size, unterminatedBytes: unterminated(join(dir, f.name), 0, st.size), rows: 0, rejects: 0 });
      } catch {
        // removed since the listing
      }
    }
  }
  const rejectsByReason = store.rejectsByReason();
  const meta = (key: string): string | undefined => store.getMeta(key);
  const last = meta('last_import');
  const lastImport = last ? (JSON.parse(last) as ImportSummary) : null;
  return {
    db: store.path,
    // A database server checks its own pages.
    integrity: store.quickCheck?.() ?? 'ok',
    dbBytes: store.dbBytes(),
    schemaVersion: store.schemaVersion,
    files,
    totals: {
      events: store.countEvents(),
      rejects: store.countRejects(),
      behindBytes: files.reduce((a, f) => a + f.behindBytes, 0),
      unterminatedBytes: files.reduce((a, f) => a + f.unterminatedBytes, 0),
      goneSources: files.filter((f) => f.state === 'gone').length,
      historyRows,
    },
    rejectsByReason,
    lastImport: lastImport && {
      completedAt: lastImport.completedAt,
      rows: lastImport.rows,
      rejects: lastImport.rejects,
      seconds: lastImport.seconds,
    },
    mirrorSkips: Number(meta('mirror_skips') ?? 0),
    prunable: prunable(store, undefined, deleted).reduce((a, c) => ({ rows: a.rows + c.rows, bytes: a.bytes + c.bytes }), { rows: 0, bytes: 0 }),
    tailer: tailerHolder(store, dir),
    indexesPending: store.indexesPending(),
    ...(store.fleet ? { fleet: { host: store.fleet.host, hosts: store.fleet.hosts() } } : {}),
  };
}

/** What status and doctor say while a bulk import's indexes are missing. */
export const INDEXES_PENDING_ADVICE =
  'indexes pending: an import is loading or was interrupted; reads answer from the files until `jsonl-mirror import` (or the tailer) builds them';

/**
 * What brings the mirror up to the files: `import` takes complete lines; an
 * unterminated last line waits for its newline, which only the writer (or
 * `import --final`, once nothing writes the file) can give.
 */
export function catchUpAdvice(behindBytes: number, unterminatedBytes: number): string | undefined {
  const advice = [];
  if (behindBytes > unterminatedBytes) advice.push('jsonl-mirror import (or run jsonl-mirror tail)');
  if (unterminatedBytes > 0) {
    advice.push(`${bytes(unterminatedBytes)} ${unterminatedBytes === 1 ? 'is' : 'are'} an unterminated last line: wait for its writer to end it, ` +
      'or run jsonl-mirror import --final if the file is no longer written');
  }
  return advice.length ? advice.join('; ') : undefined;
}
