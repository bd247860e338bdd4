import type { NormalEvent } from '../model/event.js';
import { encodeLine } from '../model/line-tokens.js';
import { lineHash } from './held.js';
import { LastBytes, readChunkBytes, readLines, type ReadRange } from './lines.js';
import { normalize } from './normalize.js';
import { parseLine, sampleOf, type RejectReason } from './parse-line.js';

/**
 * An ingest batch read and parsed off the main thread, posted in pieces of a
 * few thousand lines so that little is in flight at once, each in a form
 * that is cheap to pass between threads: columns in typed arrays
 * (transferred, not copied), the events' lines as one string, a dictionary
 * for the text fields. Made by the same readLines / parseLine / normalize
 * calls as the inline path, so the two give the same rows, rejects, blanks
 * and checkpoint.
 */
export interface ParsedPiece {
  /** The batch this piece belongs to: bytes [from, to) of the file, `final` as the inline batch reads them. */
  from: number;
  to: number;
  final: boolean;
  count: number;
  /** Per event: its file offset, and where its line ends in `text` (the events' lines one after the other). */
  offsets: Float64Array;
  textEnds: Int32Array;
  text: string;
  /** Per event, NUMBER_FIELDS in order; NaN stands for null (normalize never yields NaN). */
  numbers: Float64Array;
  /** Per event, TEXT_FIELDS in order, as indexes into `strings`; -1 stands for null. */
  codes: Int32Array;
  strings: string[];
  /** `text` holds the lines token-coded (the job's `codeLines`). */
  coded: boolean;
  rejects: ParsedReject[];
  blanks: number;
  /** On the batch's last piece. */
  end?: BatchEnd;
}

export interface BatchEnd {
  /** readLines' result: the offset after the last consumed line. */
  next: number;
  /** The last bytes consumed (at most 64), for the checkpoint's marker. */
  last: Uint8Array;
  /** Length of a rejected unterminated last line (else 0), as the inline batch computes it. */
  tail: number;
}

export interface ParsedReject {
  offset: number;
  length: number;
  reason: RejectReason;
  sample: string;
  hash: string | null;
}

const NUMBER_FIELDS = ['ts_epoch', 'issue', 'duration_s', 'cost_usd', 'input_tokens', 'output_tokens'] as const;
const TEXT_FIELDS = ['type', 'stage', 'result', 'model', 'ts_text'] as const;
type Encoded = (typeof NUMBER_FIELDS)[number] | (typeof TEXT_FIELDS)[number];
// A field added to NormalEvent without a column here fails to compile instead of being dropped.
const everyFieldEncoded: Record<Exclude<keyof NormalEvent, Encoded>, never> = {};
void everyFieldEncoded;
const columnOf = <F extends string>(fields: readonly F[]) => Object.fromEntries(fields.map((f, i) => [f, i])) as Record<F, number>;
const NUM = columnOf(NUMBER_FIELDS);
const TXT = columnOf(TEXT_FIELDS);

/** Events per piece: ~64 KB of lines, so that the main thread receives each piece's text in its young generation. */
export const PIECE_EVENTS = 512;

/** What the worker reads: readLines' range, without the main thread's read seam or marker; `codeLines` for a store that `codesLines`. */
export type BatchRange = Pick<ReadRange, 'fd' | 'from' | 'to' | 'final' | 'maxLineBytes' | 'batchBytes'> & { codeLines: boolean };

export type PieceSink = (piece: ParsedPiece, transfer: ArrayBuffer[]) => void;

/**
 * Builds one piece at a time; the events' lines are copied as bytes and
 * decoded once per piece, not kept as strings, or, for a store that codes
 * them, coded here (a seventh of the main thread's import time otherwise).
 */
class PieceBuilder {
  private offsets = new Float64Array(PIECE_EVENTS);
  private textEnds = new Int32Array(PIECE_EVENTS);
  private numbers = new Float64Array(PIECE_EVENTS * NUMBER_FIELDS.length);
  private codes = new Int32Array(PIECE_EVENTS * TEXT_FIELDS.length);
  private readonly dictionary = new Map<string, number>();
  private readonly codedLines: string[] = [];
  private used = 0;
  private chars = 0;
  private count = 0;
  private rejects: ParsedReject[] = [];
  private blanks = 0;

  constructor(
    private readonly r: BatchRange,
    private readonly sink: PieceSink,
    private readonly bytes: Buffer,
  ) {}

  event(buf: Buffer, s: number, e: number, offset: number, text: string, n: NormalEvent): void {
    if (this.count === PIECE_EVENTS || this.used + (e - s) > this.bytes.length) this.flush();
    const i = this.count++;
    this.offsets[i] = offset;
    if (this.r.codeLines) {
      const coded = encodeLine(text);
      this.codedLines.push(coded);
      this.chars += coded.length;
    } else {
      this.used += buf.copy(this.bytes, this.used, s, e);
      this.chars += text.length;
    }
    this.textEnds[i] = this.chars;
    const k = i * NUMBER_FIELDS.length;
    const nums = this.numbers;
    nums[k + NUM.ts_epoch] = n.ts_epoch;
    nums[k + NUM.issue] = n.issue ?? Number.NaN;
    nums[k + NUM.duration_s] = n.duration_s ?? Number.NaN;
    nums[k + NUM.cost_usd] = n.cost_usd ?? Number.NaN;
    nums[k + NUM.input_tokens] = n.input_tokens ?? Number.NaN;
    nums[k + NUM.output_tokens] = n.output_tokens ?? Number.NaN;
    const j = i * TEXT_FIELDS.length;
    this.codes[j + TXT.type] = this.code(n.type);
    this.codes[j + TXT.stage] = this.code(n.stage);
    this.codes[j + TXT.result] = this.code(n.result);
    this.codes[j + TXT.model] = this.code(n.model);
    this.codes[j + TXT.ts_text] = this.code(n.ts_text);
  }

  reject(r: ParsedReject): void {
    this.rejects.push(r);
  }

  blank(): void {
    this.blanks++;
  }

  flush(end?: BatchEnd): void {
    const n = this.count;
    const piece: ParsedPiece = {
      from: this.r.from,
      to: this.r.to,
      final: this.r.final,
      count: n,
      offsets: this.offsets.slice(0, n),
      textEnds: this.textEnds.slice(0, n),
      text: this.r.codeLines ? this.codedLines.join('') : this.bytes.toString('utf8', 0, this.used),
      numbers: this.numbers.slice(0, n * NUMBER_FIELDS.length),
      codes: this.codes.slice(0, n * TEXT_FIELDS.length),
      strings: [...this.dictionary.keys()],
      coded: this.r.codeLines,
      rejects: this.rejects,
      blanks: this.blanks,
      end,
    };
    const transfer = [piece.offsets, piece.textEnds, piece.numbers, piece.codes, ...(end ? [end.last] : [])].map((a) => a.buffer as ArrayBuffer);
    this.count = 0;
    this.used = 0;
    this.chars = 0;
    this.dictionary.clear();
    this.codedLines.length = 0;
    this.rejects = [];
    this.blanks = 0;
    this.sink(piece, transfer);
  }

  private code(s: string | null): number {
    if (s === null) return -1;
    let c = this.dictionary.get(s);
    if (c === undefined) this.dictionary.set(s, (c = this.dictionary.size));
    return c;
  }
}

/**
 * Buffers kept from one batch to the next: allocating them per batch left the
 * worker thread's malloc arena holding tens of MB more (peak RSS of a 1 GB import).
 */
const kept = { read: Buffer.alloc(0), lines: Buffer.alloc(0) };
const keptBuffer = (name: keyof typeof kept, size: number): Buffer => {
  if (kept[name].length < size) kept[name] = Buffer.allocUnsafe(size);
  return kept[name];
};

/** Reads and parses one batch from `r.from` as the inline ingest batch would (no store access), piece by piece; returns its end. */
export function parseBatch(r: BatchRange, sink: PieceSink): BatchEnd {
  const piece = new PieceBuilder(r, sink, keptBuffer('lines', Math.max(1024 * 1024, 2 * r.maxLineBytes)));
  let tail = 0;
  const consumed = new LastBytes();
  const next = readLines(
    { ...r, consumed, buffer: keptBuffer('read', readChunkBytes(r.maxLineBytes)) },
    (buf, s, e, offset, utf8) => {
      const parsed = parseLine(buf, s, e, utf8);
      if (parsed.kind === 'event') {
        piece.event(buf, s, e, offset, parsed.text, normalize(parsed.value));
      } else if (parsed.kind === 'blank') {
        piece.blank();
      } else {
        piece.reject({ offset, length: e - s, reason: parsed.reason, sample: sampleOf(buf, s, e), hash: lineHash(buf, s, e) });
        if (offset + (e - s) === r.to) tail = e - s;
      }
    },
    (offset, length, sample) => {
      piece.reject({ offset, length, reason: 'line_too_long', sample: sampleOf(sample, 0, sample.length), hash: null });
      if (offset + length === r.to) tail = length;
    },
  );
  const end = { next, last: Uint8Array.from(consumed.value), tail };
  piece.flush(end);
  return end;
}

/** The i-th event's line. */
export function lineOf(p: ParsedPiece, i: number): string {
  return p.text.slice(i === 0 ? 0 : p.textEnds[i - 1]!, p.textEnds[i]!);
}

/** The i-th event's normalised fields, as normalize() returned them in the worker. */
export function fieldsOf(p: ParsedPiece, i: number): NormalEvent {
  const n = p.numbers;
  const k = i * NUMBER_FIELDS.length;
  const c = p.codes;
  const j = i * TEXT_FIELDS.length;
  const num = (v: number): number | null => (Number.isNaN(v) ? null : v);
  const txt = (v: number): string | null => (v === -1 ? null : p.strings[v]!);
  return {
    type: txt(c[j + TXT.type]!),
    ts_epoch: n[k + NUM.ts_epoch]!,
    issue: num(n[k + NUM.issue]!),
    stage: txt(c[j + TXT.stage]!),
    result: txt(c[j + TXT.result]!),
    duration_s: num(n[k + NUM.duration_s]!),
    cost_usd: num(n[k + NUM.cost_usd]!),
    model: txt(c[j + TXT.model]!),
    input_tokens: num(n[k + NUM.input_tokens]!),
    output_tokens: num(n[k + NUM.output_tokens]!),
    ts_text: txt(c[j + TXT.ts_text]!),
  };
}
