import type { Store } from '../store/open.js';
import type { EventFields, EventRow } from '../store/rows.js';
import { EVENT_GROUP } from '../store/statements.js';
import { holdsLineAt, lineHash } from './held.js';
import { hashBytes, markerBytes } from './identity.js';
import { LastBytes, readLines } from './lines.js';
import { normalize } from './normalize.js';
import type { IngestTotals, ResolvedIngestOptions } from './options.js';
import { parseLine, sampleOf, type RejectReason } from './parse-line.js';
import { StageTally } from './stage-tally.js';
import type { OpenFile } from './sources.js';

export type FileOutcome = 'done' | 'invalid' | 'inactive';

function countReject(totals: IngestTotals, reason: RejectReason): void {
  totals.rejects++;
  totals.rejectsByReason[reason] = (totals.rejectsByReason[reason] ?? 0) + 1;
}

/**
 * Ingests one resolved file from its checkpoint (invariant 2): each batch of
 * complete lines and the checkpoint after it commit in one transaction, under
 * the write lock, after re-reading the checkpoint, so that concurrent
 * ingesters of the same file never take a line twice.
 */
interface BatchArgs {
  store: Store;
  file: OpenFile;
  sourceId: number;
  final: boolean;
  opts: ResolvedIngestOptions;
  totals: IngestTotals;
  /** The source was resolved against the file in this pass (else a caller's cached source: check it is still right). */
  resolved: boolean;
}

/**
 * One batch: re-read the checkpoint under the write lock, check the bytes
 * before it still match, read complete lines, insert them, move the
 * checkpoint. Returns the bytes consumed, or why it stopped.
 */
function batch({ store, file, sourceId, final, opts, totals, resolved }: BatchArgs): FileOutcome | number {
  const { fd } = file;
  const size = file.st.size;
  const src = store.sourceById(sourceId);
  if (!src || src.state !== 'active') return 'inactive';
  // A caller's cached source id may name another file once the mirror was rebuilt: then resolve again.
  if (src.dev !== file.st.dev || src.ino !== file.st.ino) return 'invalid';
  // Not resolved in this pass: a generation that has read nothing may hold an earlier one's lines, and a file whose
  // mtime moved without growing may have been rewritten in place; resolution checks both.
  if (!resolved && ((src.offset === 0 && src.copy_of === null) || (size === src.size && file.st.mtimeMs !== src.mtime_ms))) return 'invalid';
  const before = markerBytes(fd, src.offset, opts.read);
  if (src.offset > size || hashBytes(before) !== src.marker_hash) return 'invalid';
  // A reject made from an unterminated tail is provisional: once more bytes follow, its line is read again whole.
  const reread = src.tail_len > 0 && size > src.offset;
  const from = reread ? src.offset - src.tail_len : src.offset;
  if (from === size) return 'done';
  const at = new Date().toISOString();
  let rows = 0;
  let rejects = 0;
  let blanks = 0;
  let tail = 0;
  if (reread) {
    store.deleteReject(src.id, from);
    rejects--;
  }
  const tally = new StageTally();
  // Lines at offsets where the generation this one continues holds the same line are that generation's (a rewrite in place).
  const parent = src.copy_of === null ? undefined : store.sourceById(src.copy_of);
  const mappedEnd = parent ? parent.offset - src.held_at : 0;
  const reject = (offset: number, length: number, reason: RejectReason, sample: string, hash: string | null): void => {
    store.insertReject({ sourceId: src.id, stream: src.stream, path: src.path, offset, length, reason, sample, at, hash });
    rejects++;
    countReject(totals, reason);
  };
  // Events go in by groups of EVENT_GROUP rows per statement; a group that meets a row already mirrored goes in row by row.
  const group: EventRow[] = [];
  const took = (n: EventFields): void => {
    rows++;
    tally.add(n);
  };
  const insertGroup = (): void => {
    if (store.insertEventGroup(group)) for (const r of group) took(r.fields);
    else for (const r of group) if (store.insertEvent(r)) took(r.fields); else totals.duplicates++;
    group.length = 0;
  };
  const consumed = reread ? new LastBytes(markerBytes(fd, from, opts.read)) : new LastBytes(before);
  const next = readLines(
    { fd, from, to: size, final, maxLineBytes: opts.maxLineBytes, batchBytes: opts.batchBytes, read: opts.read, consumed },
    (buf, s, e, offset, utf8) => {
      if (offset < mappedEnd && holdsLineAt(store, parent!, offset + src.held_at, buf, s, e)) return;
      const parsed = parseLine(buf, s, e, utf8);
      if (parsed.kind === 'event') {
        group.push({ sourceId: src.id, offset, stream: src.stream, rank: src.rank, fields: normalize(parsed.value), line: parsed.text });
        if (group.length === EVENT_GROUP) insertGroup();
      } else if (parsed.kind === 'blank') {
        blanks++;
      } else {
        reject(offset, e - s, parsed.reason, sampleOf(buf, s, e), lineHash(buf, s, e));
        if (offset + (e - s) === size) tail = e - s; // no room left for its newline: an unterminated tail
      }
    },
    (offset, length, sample) => {
      reject(offset, length, 'line_too_long', sampleOf(sample, 0, sample.length), null);
      if (offset + length === size) tail = length;
    },
  );
  if (group.length > 0) insertGroup();
  if (next === src.offset) {
    if (size !== src.size || file.st.mtimeMs !== src.mtime_ms) store.setSeen(src.id, size, file.st.mtimeMs);
    return 'done';
  }
  tally.writeTo(store, src.stream);
  const tailLen = next === size && tail > 0 && next - tail >= from ? tail : 0;
  store.advanceReadCheckpoint(src.id, { offset: next, marker: hashBytes(consumed.value), size, mtimeMs: file.st.mtimeMs, tailLen, rows, rejects, blanks, at });
  totals.rows += rows;
  totals.blanks += blanks;
  return Math.max(0, next - src.offset);
}

/**
 * Ingests one resolved file from its checkpoint (invariant 2): each batch of
 * complete lines and the checkpoint after it commit in one transaction, under
 * the write lock, after re-reading the checkpoint, so that concurrent
 * ingesters of the same file never take a line twice.
 */
export function ingestFile(
  store: Store,
  file: OpenFile,
  sourceId: number,
  final: boolean,
  opts: ResolvedIngestOptions,
  totals: IngestTotals,
  resolved = true,
): FileOutcome {
  const txn = store.transaction(batch);
  const args: BatchArgs = { store, file, sourceId, final, opts, totals, resolved };
  for (let n = 0; n < opts.maxBatches; n++) {
    const step = txn(args);
    if (typeof step !== 'number') return step;
    totals.bytes += step;
    opts.onProgress?.(step);
  }
  return 'done';
}
