import type { NormalEvent } from '../model/event.js';

/** The typed rows the store's operations return and take (no caller casts a row). */

export interface SourceRow {
  id: number;
  stream: string;
  kind: 'jsonl' | 'legacy-costs';
  path: string;
  dev: number;
  ino: number;
  generation: number;
  rank: number;
  head_len: number;
  head_hash: string;
  offset: number;
  marker_hash: string;
  size: number;
  state: 'active' | 'copy' | 'gone' | 'replaced';
  copy_of: number | null;
  held_at: number;
  held_len: number;
  mtime_ms: number;
  tail_len: number;
  rows: number;
  rejects: number;
  blanks: number;
  first_seen: string;
  updated_at: string;
}

/** A source to create (insertSource); `now` is its first_seen and updated_at. */
export type NewSource = Pick<SourceRow, 'stream' | 'kind' | 'path' | 'dev' | 'ino' | 'generation' | 'rank' | 'head_len' | 'head_hash' | 'state' | 'copy_of'> & {
  now: string;
};

/** The indexed fields of one event: the normalised event itself (model/event.ts). */
export type EventFields = NormalEvent;

/** One event row: where its line is, its fields, and the line's text. The ingest reuses one object per batch. */
export interface EventRow {
  sourceId: number;
  offset: number;
  stream: string;
  rank: number;
  fields: EventFields;
  line: string;
  /** `line` is in its token-coded form already (only for a store that `codesLines`). */
  coded?: boolean;
}

/** One rejected line (or legacy entry); `hash` is the line's hash when the line was whole. */
export interface RejectRow {
  sourceId: number;
  stream: string;
  path: string;
  offset: number;
  length: number;
  reason: string;
  sample: string;
  at: string;
  hash?: string | null;
}

/** Moving a source's checkpoint: the counters are added to the source's. */
export interface Checkpoint {
  offset: number;
  marker: string;
  size: number;
  rows: number;
  rejects: number;
  blanks: number;
  at: string;
}

/** A checkpoint after reading a file: also what the file looked like (mtime, unterminated tail). */
export interface ReadCheckpoint extends Checkpoint {
  mtimeMs: number;
  tailLen: number;
}

/** A source following another generation (copytruncate, rewrite in place). */
export interface Follow {
  state: SourceRow['state'];
  copyOf: number | null;
  heldAt: number;
  heldLen: number;
  offset: number;
  marker: string;
  size: number;
  mtimeMs: number;
  at: string;
}

export interface OffsetLine {
  offset: number;
  line: string;
}

/** A mirrored line and the columns of its event row as read back: what verify compares with the line. */
export interface MirroredLine extends OffsetLine {
  /** undefined: the line has no event row (metrics would miss it). */
  fields: EventFields | undefined;
}

export interface OwnReject {
  offset: number;
  hash: string | null;
  length: number;
  sample: string;
}

/** One cell of day_totals (sql/006): the events of one stream, type, UTC day, stage, model and success. */
export interface DayTotal {
  stream: string;
  type: string | null;
  day: number;
  stage: string | null;
  model: string | null;
  /** 1 when result is 'success'. */
  ok: number;
  n: number;
  duration_sum: number;
  /** The least and greatest duration_s, an absent one as 0 (stage performance). */
  dur_min: number;
  dur_max: number;
  /** The sum of cost_usd where it is positive: those events' cost. */
  usd_sum: number;
  /**
   * The token sums of the other events whose token counts are both >= 0 or
   * absent: priced at read time, so a changed price table applies to the past.
   * An event with a negative count is priced from its row (its cost may be
   * <= 0, which is skipped).
   */
  tok_in: number;
  tok_out: number;
}

/** One cell of issue_costs (sql/008): the cost of one stream's events of one type, UTC day, issue and model. */
export interface IssueCost {
  stream: string;
  type: string | null;
  day: number;
  issue: number | null;
  model: string | null;
  /** As DayTotal's: the positive cost_usd summed, and the token sums of the other events with a cost. */
  usd_sum: number;
  tok_in: number;
  tok_out: number;
}

/** One cell of all_totals (sql/008, sql/010): day_totals' count and duration sum with the day left out (`day` is 0). */
export type AllTotal = Pick<DayTotal, 'stream' | 'type' | 'day' | 'stage' | 'model' | 'ok' | 'n' | 'duration_sum'> & {
  /** 1 when the kept sum is no longer read (sql/010); a recount from the days has none. */
  inexact?: number;
};

/** The rollup cells of one stream, type and UTC day: what a recount replaces. */
export interface DayRef {
  stream: string;
  type: string | null;
  day: number;
}

/** One issue of one stream whose DORA pairs (sql/009) are recomputed from epoch `from` on. */
export interface PairRef {
  stream: string;
  issue: number;
  from: number;
}

/** A row of dora_pairs: a successful completion and the epochs of the start and the failure it pairs with. */
export interface DoraPair {
  stream: string;
  ts_epoch: number;
  rank: number;
  id: number;
  issue: number;
  lead_from: number | null;
  fail_from: number | null;
}

export interface PrunableRow {
  id: number;
  stream: string;
  path: string;
  state: string;
  rows: number;
  rejects: number;
  bytes: number;
  newest: number | null;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

/** An event as the live feed hands it out, in id order. */
export interface FeedRow {
  id: number;
  /** On a fleet mirror: the machine the event came from. */
  host?: string;
  stream: string;
  line: string;
  ts_epoch: number;
  rank: number;
  offset: number;
}
