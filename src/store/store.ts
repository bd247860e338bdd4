import type {
  AppliedMigration, Checkpoint, EventFields, EventRow, FeedRow, Follow, MirroredLine, NewSource, OffsetLine, OwnReject, PrunableRow, ReadCheckpoint, RejectRow,
  SourceRow, AllTotal, DayTotal, DayRef, IssueCost,
} from './rows.js';
import type { StatementSet, Stmt } from './statement-set.js';
import { PAIRS_PENDING, type SqlName } from './statements.js';
import { rollupDayEpochs, writtenTs } from '../model/rules.js';

/** A row of the eventOffsets statement: the line, whether it has an event row, and that row's columns. */
export type KeptLine = OffsetLine & EventFields & { has_row: unknown; ts_untracked: unknown };

/** The ts_text the ingest gives the line, or undefined for text that is not an event's JSON. */
function tsTextOf(line: string, epoch: number): string | null | undefined {
  try {
    return writtenTs((JSON.parse(line) as { ts?: unknown }).ts, epoch);
  } catch {
    return undefined;
  }
}

/**
 * The mirror's one data-access handle (as Fluent Bit's tail_db.c): one typed
 * operation per statement of statements.ts, written once over the engine's
 * StatementSet, so SQLite and PostgreSQL run the same ingest and ops code.
 * Nothing outside src/store/ sees a SQL string, a connection or an untyped row.
 */
export abstract class StoreOps {
  abstract readonly engine: 'sqlite' | 'postgres';
  private readonly txns = new WeakMap<(...a: never[]) => unknown, (...a: never[]) => unknown>();

  constructor(
    protected readonly set: StatementSet,
    readonly path: string,
    readonly readonly: boolean,
    readonly schemaVersion: number,
  ) {}

  close(): void {
    this.set.close();
  }

  /**
   * The inode watchdog: the file at this store's path is no longer the one it
   * opened (deleted, or replaced by a rebuild or a quarantine), so rows written
   * through it would be lost. Its owner closes it and opens the path again.
   */
  abstract movedOnDisk(): boolean;

  /**
   * fn as one write transaction; the wrapper is built once per function and
   * kept (pass a function defined once, not a fresh closure per call).
   * Nested calls join the outer transaction.
   */
  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
    let wrapped = this.txns.get(fn as (...a: never[]) => unknown) as ((...a: A) => R) | undefined;
    if (!wrapped) {
      wrapped = this.set.transaction(fn);
      this.txns.set(fn as (...a: never[]) => unknown, wrapped as (...a: never[]) => unknown);
    }
    return wrapped;
  }

  private s(name: SqlName): Stmt {
    return this.set.stmt(name);
  }

  /** A line as the engine stores it, back to its original text (SQLite token-codes lines, line-codec.ts). */
  protected lineText(stored: string): string {
    return stored;
  }

  private linesOf(rows: OffsetLine[]): OffsetLine[] {
    for (const r of rows) r.line = this.lineText(r.line);
    return rows;
  }

  // Sources: one row per generation of a file, with its checkpoint.

  sourceById(id: number): SourceRow | undefined {
    return this.s('sourceById').get(id) as SourceRow | undefined;
  }

  /** The live generation of the file with this identity in this stream. */
  sourceByInode(stream: string, dev: number, ino: number): SourceRow | undefined {
    return this.s('sourceByInode').get(stream, dev, ino) as SourceRow | undefined;
  }

  maxGeneration(stream: string, dev: number, ino: number): number | null {
    return (this.s('maxGeneration').get(stream, dev, ino) as { g: number | null }).g;
  }

  /** The stream's JSONL sources that are not replaced, by rank. */
  knownSources(stream: string): SourceRow[] {
    return this.s('knownSources').all(stream) as SourceRow[];
  }

  maxRank(stream: string): number | null {
    return (this.s('maxRank').get(stream) as { r: number | null }).r;
  }

  minActiveRankAbove(stream: string, rank: number): number | null {
    return (this.s('minRankAbove').get(stream, rank) as { r: number | null }).r;
  }

  nextRank(stream: string, rank: number, exceptId: number): number | null {
    return (this.s('nextRank').get(stream, rank, exceptId) as { r: number | null }).r;
  }

  /** Creates a source and returns it as stored. */
  insertSource(row: NewSource): SourceRow {
    const info = this.s('insertSource').run(row);
    return this.sourceById(Number(info.lastInsertRowid))!;
  }

  moveSource(id: number, path: string, dev: number, ino: number, state: SourceRow['state'], at: string): void {
    this.s('moveSource').run(path, dev, ino, state, at, id);
  }

  setHead(id: number, len: number, hash: string): void {
    this.s('setHead').run(len, hash, id);
  }

  setState(id: number, state: SourceRow['state'], at: string): void {
    this.s('setState').run(state, at, id);
  }

  setRank(id: number, rank: number): void {
    this.s('setRank').run(rank, id);
  }

  setSeen(id: number, size: number, mtimeMs: number): void {
    this.s('setSeen').run(size, mtimeMs, id);
  }

  advanceCheckpoint(id: number, c: Checkpoint): void {
    this.s('checkpoint').run(c.offset, c.marker, c.size, c.rows, c.rejects, c.blanks, c.at, id);
  }

  advanceReadCheckpoint(id: number, c: ReadCheckpoint): void {
    this.s('checkpointRead').run(c.offset, c.marker, c.size, c.mtimeMs, c.tailLen, c.rows, c.rejects, c.blanks, c.at, id);
  }

  follow(id: number, f: Follow): void {
    this.s('follow').run(f.state, f.copyOf, f.heldAt, f.heldLen, f.offset, f.marker, f.size, f.mtimeMs, f.at, id);
  }

  /** Earlier generations of the stream that may hold a copy's lines, newest first. */
  heldCandidates(stream: string, exceptId: number): SourceRow[] {
    return this.s('heldCandidates').all(stream, exceptId) as SourceRow[];
  }

  /** Whether another generation continues this one at or after `offset`. */
  continuedFrom(id: number, offset: number): boolean {
    return this.s('continuedFrom').get(id, offset) !== undefined;
  }

  allSources(): SourceRow[] {
    return this.s('allSources').all() as SourceRow[];
  }

  /** The streams with a live JSONL source. */
  liveStreams(): string[] {
    return (this.s('liveStreams').all() as { stream: string }[]).map((r) => r.stream);
  }

  legacySource(stream: string, path: string): SourceRow | undefined {
    return this.s('legacySource').get(stream, path) as SourceRow | undefined;
  }

  // Events and rejects.

  /** Inserts one event; false when the mirror already holds its (source, offset). */
  abstract insertEvent(r: EventRow): boolean;

  /**
   * Inserts EVENT_GROUP events as one statement, all or none: false, having
   * inserted nothing, when any of them is already mirrored (or the engine has
   * no group statement); then the caller inserts them one by one.
   */
  insertEventGroup(_rows: readonly EventRow[]): boolean {
    return false;
  }

  /** Records a rejected line; with a hash (a whole line) it can later be matched against a copy. Returns rows added. */
  insertReject(r: RejectRow): number {
    return r.hash === undefined
      ? this.s('insertReject').run(r.sourceId, r.stream, r.path, r.offset, r.length, r.reason, r.sample, r.at).changes
      : this.s('insertLineReject').run(r.sourceId, r.stream, r.path, r.offset, r.length, r.reason, r.sample, r.at, r.hash).changes;
  }

  deleteReject(sourceId: number, offset: number): void {
    this.s('deleteReject').run(sourceId, offset);
  }

  /** The lowest offset below `below` where the source holds an event or a reject. */
  ownRowBelow(sourceId: number, below: number): number | undefined {
    return (this.s('ownRowBelow').get({ src: sourceId, below }) as { offset: number } | undefined)?.offset;
  }

  ownEvents(sourceId: number, from: number, to: number, limit: number): OffsetLine[] {
    return this.linesOf(this.s('ownEvents').all(sourceId, from, to, limit) as OffsetLine[]);
  }

  ownRejects(sourceId: number, from: number, to: number, limit: number): OwnReject[] {
    return this.s('ownRejects').all(sourceId, from, to, limit) as OwnReject[];
  }

  maxOffset(sourceId: number): number | null {
    return (this.s('maxOffset').get(sourceId) as { o: number | null }).o;
  }

  /** The source's events in offset order with their rows' columns, streamed. */
  *eventOffsets(sourceId: number): Generator<MirroredLine> {
    for (const r of this.s('eventOffsets').iterate(sourceId) as IterableIterator<KeptLine>) yield this.mirrored(r);
  }

  protected mirrored(r: KeptLine): MirroredLine {
    const line = this.lineText(r.line);
    if (!r.has_row) return { offset: r.offset, line, fields: undefined };
    const { type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens } = r;
    // A row older than the ts_text column has none: its ts is read from the line (read-sql.ts), so the line's is what it shows.
    const ts_text = r.ts_untracked ? tsTextOf(line, ts_epoch) ?? r.ts_text : r.ts_text;
    return { offset: r.offset, line, fields: { type, ts_epoch, issue, stage, result, duration_s, cost_usd, model, input_tokens, output_tokens, ts_text } };
  }

  keptFields(f: EventFields): EventFields {
    return f;
  }

  rejectOffsets(sourceId: number): { offset: number; length: number }[] {
    return this.s('rejectOffsets').all(sourceId) as { offset: number; length: number }[];
  }

  countEvents(): number {
    return (this.s('countEvents').get() as { n: number }).n;
  }

  countRejects(): number {
    return (this.s('countRejects').get() as { n: number }).n;
  }

  rejectsByReason(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.s('rejectsByReason').all() as { reason: string; n: number }[]) out[r.reason] = r.n;
    return out;
  }

  /** The live feed's head and pages: where each engine numbers its events (Store.maxEventId). */
  abstract maxEventId(): number;
  abstract eventsAfter(id: number, limit: number): FeedRow[];

  // Legacy costs.json entries.

  insertLegacy(key: string, sourceId: number, offset: number): void {
    this.s('insertLegacy').run(key, sourceId, offset);
  }

  /** The last `n` lines of a source, newest first. */
  legacyTail(sourceId: number, n: number): string[] {
    return (this.s('legacyTail').all(sourceId, n) as { line: string }[]).map((r) => this.lineText(r.line));
  }

  /** How many legacy entries have a key strictly between lo and hi. */
  legacyCount(lo: string, hi: string): number {
    return (this.s('legacyCount').get(lo, hi) as { n: number }).n;
  }

  // Day totals (sql/006): kept with the rows, equal to what the rows say.

  /** One transaction's cells, each added to the kept one (or kept as new): each engine in as few round trips as it can. */
  abstract addDayTotals(cells: Iterable<DayTotal>): void;

  daysOfSource(sourceId: number): DayRef[] {
    return this.s('daysOfSource').all(sourceId) as DayRef[];
  }

  recountDay(d: DayRef): void {
    const [since, until] = rollupDayEpochs(d.day);
    this.s('clearDay').run(d.stream, d.type, d.day);
    this.s('recountDay').run(d.stream, d.type, since, until);
    this.s('clearIssueDay').run(d.stream, d.type, d.day);
    this.s('recountIssueDay').run(d.stream, d.type, since, until);
  }

  abstract addIssueCosts(cells: Iterable<IssueCost>): void;

  issueCostsKept(): IssueCost[] {
    return this.s('issueCostsKept').all() as IssueCost[];
  }

  issueCostsFromRows(): IssueCost[] {
    return this.s('issueCostsFromRows').all() as IssueCost[];
  }

  allTotalsKept(): AllTotal[] {
    return this.s('allTotalsKept').all() as AllTotal[];
  }

  /** What all_totals must hold: day_totals' counts and duration sums summed over the days. */
  allTotalsFromDays(): AllTotal[] {
    return this.s('allTotalsFromDays').all() as AllTotal[];
  }

  dayTotalsKept(): DayTotal[] {
    return this.s('dayTotalsKept').all() as DayTotal[];
  }

  dayTotalsFromRows(): DayTotal[] {
    return this.s('dayTotalsFromRows').all() as DayTotal[];
  }

  // Prune.

  /** Sources whose file is gone or was truncated, with no copy left holding their lines. */
  prunable(): PrunableRow[] {
    return this.s('prunable').all() as PrunableRow[];
  }

  /** What pruning one source would drop, unless a copy still on disk holds its lines. */
  prunableSource(id: number): PrunableRow | undefined {
    return this.s('prunableSource').get(id) as PrunableRow | undefined;
  }

  /** History generations that held this one's lines no longer do (it is being pruned). */
  detachCopies(id: number): void {
    this.s('detachCopies').run(id);
  }

  /** Drops a source with its events and rejects. */
  deleteSourceRows(id: number): void {
    this.s('deleteEventsOfSource').run(id);
    this.deleteLinesOfSource(id);
    this.s('deleteRejectsOfSource').run(id);
    this.s('deleteSource').run(id);
  }

  /** Where lines are kept apart from their events (SQLite), they go after them. */
  protected deleteLinesOfSource(_id: number): void {}

  /**
   * A number that changes whenever another connection committed since it was
   * last read on this one (SQLite's data_version); undefined where the engine
   * has none. Read inside a write transaction, an unchanged value proves
   * nobody else changed anything since this connection's last transaction.
   */
  dataVersion(): number | undefined {
    return undefined;
  }

  // Meta and schema.

  /** Whether dora_pairs (sql/009) waits to be filled from the rows (after its migration, during a bulk load): until then reads pair the rows. */
  pairsPending(): boolean {
    return this.getMeta(PAIRS_PENDING) !== undefined;
  }

  getMeta(key: string): string | undefined {
    return (this.s('getMeta').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.s('setMeta').run(key, value);
  }

  deleteMeta(key: string): void {
    this.s('deleteMeta').run(key);
  }

  migrationsApplied(): AppliedMigration[] {
    return this.s('migrationsApplied').all() as AppliedMigration[];
  }
}

/**
 * A cell's key as the statements take it: stream, type, day, which of stage
 * (1) and model (2) are NULL, stage and model ('' for NULL), success.
 */
export function dayKey(t: DayTotal): [string, string | null, number, number, string, string, number] {
  return [t.stream, t.type, t.day, (t.stage === null ? 1 : 0) | (t.model === null ? 2 : 0), t.stage ?? '', t.model ?? '', t.ok];
}

/** An issue_costs cell's key as the statements take it: stream, type, day, which of issue (1) and model (2) are NULL, issue, model. */
export function issueKey(c: IssueCost): [string, string | null, number, number, number, string] {
  return [c.stream, c.type, c.day, (c.issue === null ? 1 : 0) | (c.model === null ? 2 : 0), c.issue ?? 0, c.model ?? ''];
}

/** A cell's values in the statements' order (sql/007). */
export function dayValues(t: DayTotal): [number, number, number, number, number, number, number] {
  return [t.n, t.duration_sum, t.dur_min, t.dur_max, t.usd_sum, t.tok_in, t.tok_out];
}

/**
 * ts_text of the rows a read found mirrored before sql/011 (pg/009), from
 * the line and epoch read beside them (read-sql.ts columnsOf), as the ingest
 * computes it; `text` turns a stored line into its JSON.
 */
export function withWrittenTs<T extends EventFields>(rows: T[], text: (stored: string) => string): T[] {
  for (const r of rows as (T & { old_line?: string | null; old_epoch?: number })[]) {
    if (r.old_line === undefined) return rows;
    if (r.old_line !== null) r.ts_text = writtenTs((JSON.parse(text(r.old_line)) as { ts?: unknown }).ts, r.old_epoch!);
    delete r.old_line;
    delete r.old_epoch;
  }
  return rows;
}
