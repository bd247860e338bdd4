import { fstatSync } from 'node:fs';
import type { Store } from '../store/open.js';
import type { EventRow } from '../store/rows.js';
import { hashBytes, markerBytes, MARKER_BYTES } from './identity.js';
import type { LiveHint } from './ingest-live.js';
import { normalize } from './normalize.js';
import { parseLine } from './parse-line.js';
import { StageTally } from './stage-tally.js';

/** A line that is not what the writer wrote, or is already mirrored: roll back, take the ingest path. */
class NotOwnLines extends Error {}

/** The lines a writer appended to one file since its last mirror step, and the checkpoint that step left. */
export interface OwnLines {
  from: number;
  lines: Buffer[];
}

interface OwnArgs {
  store: Store;
  hint: LiveHint;
  fd: number;
  own: OwnLines;
}

/**
 * The writer's fast path (issue #15): when the bytes after the checkpoint are
 * exactly the lines this writer appended since its last mirror step, insert
 * them from memory and move the checkpoint, without reading them back.
 * Checked under the write lock: the checkpoint is still where that step left
 * it (nobody consumed anything since, so the file from there holds whatever
 * was unread then, then our lines, then anyone else's), and the file's size
 * is that checkpoint plus our lines (so there is nothing else); the bytes
 * before the checkpoint are unchanged. Anything else (another writer's
 * `echo >>`, a tailer that took our lines, a rotation, a provisional tail)
 * returns undefined having changed nothing: the caller takes the ingest
 * path. Returns the new checkpoint.
 */
export function ingestOwnLines(store: Store, hint: LiveHint, fd: number, own: OwnLines): number | undefined {
  try {
    return store.transaction(ownStep)({ store, hint, fd, own });
  } catch (err) {
    if (err instanceof NotOwnLines) return undefined;
    throw err;
  }
}

function ownStep({ store, hint, fd, own: { from, lines } }: OwnArgs): number | undefined {
  const src = store.sourceById(hint.sourceId);
  // New, continued, provisional-tail or copy generations go through resolution and the held-line checks.
  if (!src || src.state !== 'active' || src.offset !== from || src.offset === 0 || src.copy_of !== null || src.tail_len !== 0) return undefined;
  const st = fstatSync(fd);
  if (st.dev !== src.dev || st.ino !== src.ino) return undefined;
  if (st.size - src.offset !== lines.reduce((a, b) => a + b.length, 0)) return undefined;
  const before = markerBytes(fd, src.offset);
  if (hashBytes(before) !== src.marker_hash) return undefined;
  const row: EventRow = { sourceId: src.id, offset: src.offset, stream: src.stream, rank: src.rank, fields: null!, line: '' };
  const tally = new StageTally();
  for (const b of lines) {
    // Parsed from the bytes written, as the ingest path would read them back: the same row, whatever the event held.
    const parsed = b[b.length - 1] === 10 ? parseLine(b, 0, b.length - 1, false) : undefined;
    if (parsed?.kind !== 'event') throw new NotOwnLines();
    row.fields = normalize(parsed.value);
    row.line = parsed.text;
    if (!store.insertEvent(row)) throw new NotOwnLines();
    tally.add(row.fields);
    row.offset += b.length;
  }
  tally.writeTo(store, src.stream);
  let k = lines.length;
  for (let acc = 0; k > 0 && acc < MARKER_BYTES; ) acc += lines[--k]!.length;
  const tail = Buffer.concat(k === 0 ? [before, ...lines] : lines.slice(k));
  store.advanceReadCheckpoint(src.id, {
    offset: row.offset, marker: hashBytes(tail.subarray(Math.max(0, tail.length - MARKER_BYTES))), size: st.size, mtimeMs: st.mtimeMs,
    tailLen: 0, rows: lines.length, rejects: 0, blanks: 0, at: new Date().toISOString(),
  });
  return row.offset;
}
