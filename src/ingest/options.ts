import { DEFAULT_MAX_LINE_BYTES, defaultRead, type ReadFn } from './lines.js';
import type { FollowedFiles } from './followed.js';
import type { ParseAhead } from './parse-ahead.js';

export interface IngestOptions {
  /** Lines longer than this many bytes become `line_too_long` rejects (default 1 MiB). */
  maxLineBytes?: number;
  /** Treat every file as no longer written: ingest unterminated last lines (`import --final`). */
  final?: boolean;
  /** A rotated file idle this long is no longer written, so its unterminated tail is taken (default 60 s). */
  rotatedGraceMs?: number;
  /** Bytes read per transaction (default 8 MiB). */
  batchBytes?: number;
  /** Stop after this many batches per file (default: read to the end); the writer's bounded mirror step uses 1. */
  maxBatches?: number;
  /** Called after each committed batch with the bytes it consumed. */
  onProgress?: (bytes: number) => void;
  /** Told about each file named like a log that cannot be read (a FIFO, a directory, no permission); the others go on. */
  onSkip?: (skipped: Skipped) => void;
  /** Reads the lines' bytes (default readSync): the seam tests use to truncate a file in the middle of a pass. */
  read?: ReadFn;
  /** Parse files a batch ahead in this worker thread (a bulk load's; see import.ts). */
  parseAhead?: ParseAhead;
  /** Keep each generation open here, so that one renamed out of every listing is still drained (the tailer's). */
  follow?: FollowedFiles;
}

export interface ResolvedIngestOptions {
  maxLineBytes: number;
  final: boolean;
  rotatedGraceMs: number;
  batchBytes: number;
  maxBatches: number;
  onProgress?: (bytes: number) => void;
  onSkip?: (skipped: Skipped) => void;
  read: ReadFn;
  parseAhead?: ParseAhead;
  follow?: FollowedFiles;
}

export function resolveIngestOptions(o: IngestOptions = {}): ResolvedIngestOptions {
  return {
    maxLineBytes: o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    final: o.final ?? false,
    rotatedGraceMs: o.rotatedGraceMs ?? 60_000,
    batchBytes: o.batchBytes ?? 8 * 1024 * 1024,
    maxBatches: o.maxBatches ?? Number.POSITIVE_INFINITY,
    onProgress: o.onProgress,
    onSkip: o.onSkip,
    read: o.read ?? defaultRead,
    parseAhead: o.parseAhead,
    follow: o.follow,
  };
}

/** What one or more ingest passes did. */
export interface IngestTotals {
  files: number;
  rows: number;
  rejects: number;
  blanks: number;
  bytes: number;
  /** Rows the unique identity refused: should stay 0; non-zero means two writers raced past a checkpoint. */
  duplicates: number;
  /** Bytes of unterminated last lines left for a later ingest. */
  pendingBytes: number;
  rejectsByReason: Record<string, number>;
  /** Files named like logs that were skipped, with why. */
  skipped: Skipped[];
}

/** A file named like a log that the ingest passed over: not a regular file (a FIFO, a directory), unreadable, or a damaged archive. */
export interface Skipped {
  path: string;
  kind: 'not-a-file' | 'unreadable' | 'corrupt-archive';
  /** One line naming the file and the fix. */
  reason: string;
}

export function emptyTotals(): IngestTotals {
  return { files: 0, rows: 0, rejects: 0, blanks: 0, bytes: 0, duplicates: 0, pendingBytes: 0, rejectsByReason: {}, skipped: [] };
}
