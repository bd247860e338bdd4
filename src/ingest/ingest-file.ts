import type { Store } from '../store/api.js';
import type { EventFields, EventRow, SourceRow } from '../store/rows.js';
import { EVENT_GROUP } from '../store/api.js';
import { holdsLineAt, lineHash } from './held.js';
import { hashBytes, markerBytes } from './identity.js';
import { defaultRead, LastBytes, readLines } from './lines.js';
import { normalize } from './normalize.js';
import type { IngestTotals, ResolvedIngestOptions } from './options.js';
import { parseLine, sampleOf, type RejectReason } from './parse-line.js';
import { fieldsOf, lineOf, type ParsedPiece, type ParsedReject } from './parsed-batch.js';
import { DayTally } from './day-tally.js';
import { continuedElsewhere, type OpenFile } from './sources.js';

export type FileOutcome = 'done' | 'invalid' | 'inactive';

/** A file read ahead by the parse worker has at least this many batches left: with fewer there is nothing to overlap. */
const AHEAD_MIN_BATCHES = 2;

function countReject(totals: IngestTotals, reason: RejectReason): void {
  totals.rejects++;
  totals.rejectsByReason[reason] = (totals.rejectsByReason[reason] ?? 0) + 1;
}

/** A piece's events and rejects, in file order. */
function applyPiece(
  p: ParsedPiece, event: (offset: number, fields: EventFields, line: string, coded: boolean) => void, reject: (r: ParsedReject) => void,
): void {
  const rejected = p.rejects;
  let r = 0;
  for (let i = 0; i < p.count; i++) {
    const offset = p.offsets[i]!;
    for (; r < rejected.length && rejected[r]!.offset < offset; r++) reject(rejected[r]!);
    event(offset, fieldsOf(p, i), lineOf(p, i), p.coded);
  }
  for (; r < rejected.length; r++) reject(rejected[r]!);
}

interface BatchArgs {
  store: Store;
  file: OpenFile;
  sourceId: number;
  final: boolean;
  opts: ResolvedIngestOptions;
  totals: IngestTotals;
  /** The source was resolved against the file in this pass (else a caller's cached source: check it is still right). */
  resolved: boolean;
  /** The first piece of this batch as the parse-ahead worker read it from where it expected the checkpoint; used only if that is where it is. */
  parsed?: ParsedPiece;
  /** Set when `parsed` did not start at the checkpoint (another ingester moved it): the worker must start again. */
  parsedStale?: boolean;
  /** Where the generation's own lines end in the file, if before its end (asked under the write lock). */
  endOf?: (src: SourceRow) => number | undefined;
}

/** Where a batch starts: the checkpoint, or the start of an unterminated tail read provisionally. */
function startOf(src: SourceRow, size: number): number {
  return src.tail_len > 0 && size > src.offset ? src.offset - src.tail_len : src.offset;
}

/** Lines before this offset may be held by the generation this one continues (a rewrite in place). */
function mappedEndOf(store: Store, src: SourceRow): { parent: SourceRow | undefined; mappedEnd: number } {
  const parent = src.copy_of === null ? undefined : store.sourceById(src.copy_of);
  return { parent, mappedEnd: parent ? parent.offset - src.held_at : 0 };
}

/**
 * One batch: re-read the checkpoint under the write lock, check the bytes
 * before it still match, read complete lines, insert them, move the
 * checkpoint. Returns the bytes consumed, or why it stopped.
 */
function batch(args: BatchArgs): FileOutcome | number {
  const { store, file, sourceId, final, opts, totals, resolved, parsed } = args;
  const { fd } = file;
  const src = store.sourceById(sourceId);
  if (!src || src.state !== 'active') return 'inactive';
  // An ingester that keeps no descriptors saw this generation's file gone and let a copy of it (its archive, a kept
  // suffix) read on from the checkpoint: the lines after it are the copy's, even if a descriptor kept here still has them.
  if (continuedElsewhere(store, src)) return 'inactive';
  // Or it mirrored the copy's lines as their own (the copy kept only lines unread here): they end this generation.
  const end = args.endOf?.(src);
  if (end !== undefined && end <= src.offset) return 'inactive';
  const size = end === undefined ? file.st.size : Math.min(end, file.st.size);
  // A caller's cached source id may name another file once the mirror was rebuilt: then resolve again.
  if (src.dev !== file.st.dev || src.ino !== file.st.ino) return 'invalid';
  // Not resolved in this pass: a generation that has read nothing may hold an earlier one's lines, and a file whose
  // mtime moved without growing may have been rewritten in place; resolution checks both.
  if (!resolved && ((src.offset === 0 && src.copy_of === null) || (size === src.size && file.st.mtimeMs !== src.mtime_ms))) return 'invalid';
  const before = markerBytes(fd, src.offset, opts.read);
  if (src.offset > size || hashBytes(before) !== src.marker_hash) return 'invalid';
  // A reject made from an unterminated tail is provisional: once more bytes follow, its line is read again whole.
  const from = startOf(src, size);
  const reread = from !== src.offset;
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
  const tally = new DayTally(src.stream);
  // Lines at offsets where the generation this one continues holds the same line are that generation's (a rewrite in place).
  const { parent, mappedEnd } = mappedEndOf(store, src);
  const reject = ({ offset, length, reason, sample, hash }: ParsedReject): void => {
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
  const event = (offset: number, fields: EventFields, line: string, coded = false): void => {
    group.push({ sourceId: src.id, offset, stream: src.stream, rank: src.rank, fields, line, coded });
    if (group.length === EVENT_GROUP) insertGroup();
  };
  let next: number;
  if (parsed && parsed.from === from && parsed.to === size && parsed.final === final && from >= mappedEnd) {
    // The same lines, parsed by the worker; rejects go in between the events where the inline path puts them.
    let piece = parsed;
    while (!piece.end) {
      applyPiece(piece, event, reject);
      blanks += piece.blanks;
      piece = opts.parseAhead!.take()!;
    }
    applyPiece(piece, event, reject);
    blanks += piece.blanks;
    const { last } = piece.end;
    tail = piece.end.tail;
    consumed.push(Buffer.from(last.buffer, last.byteOffset, last.length), 0, last.length);
    next = piece.end.next;
  } else {
    args.parsedStale = parsed !== undefined;
    next = readLines(
      { fd, from, to: size, final, maxLineBytes: opts.maxLineBytes, batchBytes: opts.batchBytes, read: opts.read, consumed },
      (buf, s, e, offset, utf8) => {
        if (offset < mappedEnd && holdsLineAt(store, parent!, offset + src.held_at, buf, s, e)) return;
        const line = parseLine(buf, s, e, utf8);
        if (line.kind === 'event') {
          event(offset, normalize(line.value), line.text);
        } else if (line.kind === 'blank') {
          blanks++;
        } else {
          reject({ offset, length: e - s, reason: line.reason, sample: sampleOf(buf, s, e), hash: lineHash(buf, s, e) });
          if (offset + (e - s) === size) tail = e - s; // no room left for its newline: an unterminated tail
        }
      },
      (offset, length, sample) => {
        reject({ offset, length, reason: 'line_too_long', sample: sampleOf(sample, 0, sample.length), hash: null });
        if (offset + length === size) tail = length;
      },
    );
  }
  if (group.length > 0) insertGroup();
  if (next === src.offset) {
    if (size !== src.size || file.st.mtimeMs !== src.mtime_ms) store.setSeen(src.id, size, file.st.mtimeMs);
    return 'done';
  }
  tally.writeTo(store);
  const tailLen = next === size && tail > 0 && next - tail >= from ? tail : 0;
  store.advanceReadCheckpoint(src.id, { offset: next, marker: hashBytes(consumed.value), size, mtimeMs: file.st.mtimeMs, tailLen, rows, rejects, blanks, at });
  totals.rows += rows;
  totals.blanks += blanks;
  return Math.max(0, next - src.offset);
}

/**
 * Ingests one resolved file from its checkpoint (docs/design.md#invariant-2): each batch of
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
  endOf?: BatchArgs['endOf'],
): FileOutcome {
  const txn = store.transaction(batch);
  const args: BatchArgs = { store, file, sourceId, final, opts, totals, resolved, endOf };
  const ahead = opts.parseAhead;
  // Reads ahead from where the next batch should start, if enough is left there to overlap parsing with inserting.
  const follow = (): boolean => {
    const src = store.sourceById(sourceId);
    if (!ahead || !src || src.state !== 'active' || opts.read !== defaultRead) return false;
    const from = startOf(src, file.st.size);
    if (file.st.size - from < AHEAD_MIN_BATCHES * opts.batchBytes || from < mappedEndOf(store, src).mappedEnd) return false;
    ahead.start({ fd: file.fd, from, to: file.st.size, final, maxLineBytes: opts.maxLineBytes, batchBytes: opts.batchBytes, codeLines: store.codesLines });
    return true;
  };
  let following = follow();
  try {
    for (let n = 0; n < opts.maxBatches; n++) {
      args.parsed = following ? ahead!.take() : undefined;
      args.parsedStale = false;
      const step = txn(args);
      if (typeof step !== 'number') return step;
      if (args.parsedStale) following = follow();
      totals.bytes += step;
      opts.onProgress?.(step);
    }
    return 'done';
  } finally {
    // The caller closes the file next: the worker must be done reading it.
    if (following) ahead!.stop();
  }
}
