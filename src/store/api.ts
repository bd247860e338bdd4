import type { EventQuery, FeedQuery, GroupQuery, PairQuery, PairTotals, RecordQuery } from '../model/query.js';
import type {
  AllTotal, AppliedMigration, Checkpoint, DayRef, DayTotal, DoraPair, IssueCost, EventFields, EventRow, FeedRow, Follow, MirroredLine, NewSource, OffsetLine, OwnReject, PairRef, PrunableRow, ReadCheckpoint,
  RejectRow, SourceRow,
} from './rows.js';

/**
 * The mirror as everything above src/store/ sees it, whichever engine holds
 * it. What only some engines can do is an optional capability: a caller asks
 * for the capability (`store.quickCheck?.()`), never which engine it has.
 * Engines implement this (open.ts, pg/open.ts) and are found by what --db
 * names (engine.ts); docs/design.md#adding-an-engine.
 */
export interface Store {
  /** For messages and metrics labels; code never branches on it (test/architecture.ts). */
  readonly engine: EngineName;
  /** What --db named, without secrets. */
  readonly path: string;
  readonly readonly: boolean;
  readonly schemaVersion: number;
  close(): void;

  /** The file this store opened is no longer the one at its path (replaced, deleted): reopen. An engine without files: false. */
  movedOnDisk(): boolean;
  /** Changes with every commit by anyone: a cache of answers is valid while it stays. */
  changeStamp(): string;
  /** When the mirror was last written, epoch seconds; null when never. */
  lastCommitSeconds(): number | null;
  /** Moves when another connection commits; undefined where the engine cannot tell (StoreOps.dataVersion). */
  dataVersion(): number | undefined;
  /** The mirror's size on disk, bytes. */
  dbBytes(): number;
  /** A bulk load dropped the secondary indexes and has not built them again. */
  indexesPending(): boolean;

  transaction<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R;

  // The typed operations of store.ts: sources and checkpoints.
  sourceById(id: number): SourceRow | undefined;
  sourceByInode(stream: string, dev: number, ino: number): SourceRow | undefined;
  maxGeneration(stream: string, dev: number, ino: number): number | null;
  knownSources(stream: string): SourceRow[];
  maxRank(stream: string): number | null;
  minActiveRankAbove(stream: string, rank: number): number | null;
  /** The lowest rank above `rank` of any JSONL source of the stream but `exceptId`, in any state. */
  nextRank(stream: string, rank: number, exceptId: number): number | null;
  insertSource(row: NewSource): SourceRow;
  moveSource(id: number, path: string, dev: number, ino: number, state: SourceRow['state'], at: string): void;
  setHead(id: number, len: number, hash: string): void;
  setState(id: number, state: SourceRow['state'], at: string): void;
  /** Moves a source that has no rows yet in log order (its rows would keep the rank they were written with). */
  setRank(id: number, rank: number): void;
  setSeen(id: number, size: number, mtimeMs: number): void;
  advanceCheckpoint(id: number, c: Checkpoint): void;
  advanceReadCheckpoint(id: number, c: ReadCheckpoint): void;
  follow(id: number, f: Follow): void;
  heldCandidates(stream: string, exceptId: number): SourceRow[];
  continuedFrom(id: number, offset: number): boolean;
  allSources(): SourceRow[];
  liveStreams(): string[];
  legacySource(stream: string, path: string): SourceRow | undefined;

  // Events and rejects.
  /**
   * Inserts one event. Where `insertSaysHeld`, false when the mirror already
   * holds its (source, offset); elsewhere always true, and a held row fails
   * the transaction instead.
   */
  insertEvent(r: EventRow): boolean;
  /** insertEvent tells a row the mirror holds already (the writer's fast path relies on it, ingest-own.ts). */
  readonly insertSaysHeld: boolean;
  /** Lines are stored token-coded (model/line-tokens.ts): an EventRow may bring its line coded already (`coded`), off the main thread. */
  readonly codesLines: boolean;
  /** EVENT_GROUP events as one statement, all or none; false having inserted nothing when any is held or the engine has no group insert. */
  insertEventGroup(rows: readonly EventRow[]): boolean;
  insertReject(r: RejectRow): number;
  deleteReject(sourceId: number, offset: number): void;
  ownRowBelow(sourceId: number, below: number): number | undefined;
  ownEvents(sourceId: number, from: number, to: number, limit: number): OffsetLine[];
  ownRejects(sourceId: number, from: number, to: number, limit: number): OwnReject[];
  maxOffset(sourceId: number): number | null;
  eventOffsets(sourceId: number): Generator<MirroredLine>;
  /** Fields as this engine keeps them (PostgreSQL text holds no NUL): what a row of these fields reads back as. */
  keptFields(f: EventFields): EventFields;
  rejectOffsets(sourceId: number): { offset: number; length: number }[];
  countEvents(): number;
  countRejects(): number;
  rejectsByReason(): Record<string, number>;
  /** The newest event id the live feed can see (on a fleet mirror: of every host). */
  maxEventId(): number;
  /** Up to `limit` events with an id above `id`, in id order (the live feed). */
  eventsAfter(id: number, limit: number): FeedRow[];
  /** What moves with every commit (of any host, on a fleet mirror): a server's answers are cached until it does. */
  changeStamp(): string;
  /** When the mirror was last committed to, epoch seconds; null when never. */
  lastCommitSeconds(): number | null;

  // Legacy costs.json entries.
  insertLegacy(key: string, sourceId: number, offset: number): void;
  legacyTail(sourceId: number, n: number): string[];
  legacyCount(lo: string, hi: string): number;

  // Day totals, prune, meta.
  addDayTotals(cells: Iterable<DayTotal>): void;
  /** The (stream, type, day) groups of cells a source's rows fall in. */
  daysOfSource(sourceId: number): DayRef[];
  /** Replaces those cells (day_totals and issue_costs) with a count of the rows there now. */
  recountDay(d: DayRef): void;
  addIssueCosts(cells: Iterable<IssueCost>): void;
  /** Recomputes dora_pairs (sql/009) of each issue from its epoch on, from the rows there now (the ingest's rows first). */
  repairPairs(refs: Iterable<PairRef>): void;
  /** The issues a source's pipeline rows belong to, each from its earliest: what prune repairs once they are gone. */
  pairsOfSource(sourceId: number): PairRef[];
  /** dora_pairs waits to be filled from the rows: there is nothing kept to check or read yet. */
  pairsPending(): boolean;
  pairsKept(): DoraPair[];
  pairsFromRows(): DoraPair[];
  issueCostsKept(): IssueCost[];
  issueCostsFromRows(): IssueCost[];
  allTotalsKept(): AllTotal[];
  allTotalsFromDays(): AllTotal[];
  dayTotalsKept(): DayTotal[];
  dayTotalsFromRows(): DayTotal[];
  prunable(): PrunableRow[];
  prunableSource(id: number): PrunableRow | undefined;
  detachCopies(id: number): void;
  deleteSourceRows(id: number): void;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  deleteMeta(key: string): void;
  migrationsApplied(): AppliedMigration[];

  // The reads of src/read/: on a fleet mirror over every host, or the one a query names.
  events(q: EventQuery & HostScope): EventFields[];
  /** Group rows as arrays: the group keys, then count and sum. */
  groups(q: GroupQuery & HostScope): unknown[][];
  /** DORA's samples of a window from dora_pairs; undefined when the pairs cannot answer (not built yet, or kept apart per stream and host where the window spans several). */
  pairTotals(q: PairQuery & HostScope): PairTotals | undefined;
  feedCount(q: FeedQuery & HostScope): number;
  /** A page of the feed, newest first; each entry's position is where the next page starts. */
  feedPage(q: FeedQuery & HostScope, after?: FeedPosition): FeedEntry[];
  records(q: RecordQuery & HostScope): (EventFields & { line: string })[];
  /** The original lines of the mirrored events, streamed. */
  exportLines(q: ExportQuery & HostScope): Generator<string>;
  /** A user's SQL, strictly read-only: anything the engine cannot prove is a read is refused (INVALID_ARGUMENT). */
  readQuery(sql: string, params: unknown[]): QueryRows;

  // Capabilities.
  /** A quick check of the database's own pages: 'ok', or the first problem (absent where the server checks its own). */
  quickCheck?(): string;
  /** Every problem a full check of the pages finds (['ok'] when none). */
  integrityCheck?(): string[];
  /** Refuse every write on this connection from now on (absent where a read-only open already does). */
  queryOnly?(): void;
  /** Loading much at once faster than row by row allows (import.ts decides when it pays). */
  readonly bulkLoad?: BulkLoad;
  /** Empties the write-ahead log into the database. */
  walCheckpoint?(): void;
  /** Replaces the database at `dest` with this one, in one step its other connections see whole. */
  backupTo?(dest: string): Promise<void>;
  /** A mirror many machines feed: this process's host and every host's state. */
  readonly fleet?: Fleet;
  /** One tailer per host and folder, held by this connection's session (where the engine has no meta-row lock of its own). */
  tryTailerLock?(folder: string): boolean;
  releaseTailerLock?(folder: string): void;
  tailerLockHeld?(folder: string): boolean;
}

export type EngineName = 'sqlite' | 'postgres';

/** How an engine is opened: each engine reads the options that apply to it. */
export interface MirrorOpenOptions {
  /** Open without writing: no migrations; fails when there is no mirror. */
  readonly?: boolean;
  /** Fail with DB_MISSING instead of creating a new mirror (a file engine). */
  mustExist?: boolean;
  /** false: fail with DB_NEEDS_MIGRATION instead of migrating (a server engine: the writer never sets a database up). */
  migrate?: boolean;
  /** How long a statement waits for another process's lock, ms (a file engine; default 5000). */
  busyTimeoutMs?: number;
  /** A fleet mirror: the host this process reads and writes as (default: the hostname). */
  hostId?: string;
  /** A server engine: how long connecting may take, ms. */
  connectMs?: number;
  /** A server engine: how long one statement may take, ms. */
  statementMs?: number;
}

/** An engine as the registry (engine.ts) hands it out once loaded. */
export interface Engine {
  open(db: string, opts?: MirrorOpenOptions): Store;
  /** A failure opening or using `db` as a MirrorError that names the fix; what the engine cannot place is returned as is. */
  explainError(err: unknown, db: string): unknown;
  /** A mirror that is a file of ours can be found broken, and then moved aside and created afresh (quarantine.ts). */
  readonly quarantine?: Quarantine;
}

export interface Quarantine {
  /** The error says the file is not a usable database. */
  isBroken(err: unknown): boolean;
  /** Moves a broken mirror aside when it is provably ours; null when `err` is not about a broken mirror. */
  moveAside(db: string, err: unknown): string | null;
  /** Opens the mirror to write it; a broken one is moved aside (`moved` says where) and a fresh one created. */
  openHealed(db: string, moved: (aside: string) => void): Store;
}

export interface BulkLoad {
  /** Drops the secondary indexes (indexesPending from then on) and loads without fsync on this connection. */
  enter(): void;
  /** Back to durable commits, the indexes still pending (a load cut short). */
  leave(): void;
  /** Builds the pending indexes; a no-op for indexes already there. */
  finishIndexes(): void;
  /** Another process's load was cut short: fails as DB_CORRUPT when that left the database damaged. */
  checkInterrupted(): void;
}

export interface Fleet {
  /** The machine this process ingests for. */
  readonly host: string;
  hosts(): HostStatus[];
  /** Every host's streams as its sources recorded them at its last ingest. */
  streams(): FleetStream[];
  /** Drops every row this host's files gave (rebuild, inside its transaction). */
  forgetHost(): void;
}

/** One host's stream in a fleet mirror: rows, rejects and the bytes behind its files' sizes when last read. */
export interface FleetStream {
  host: string;
  stream: string;
  rows: number;
  rejects: number;
  behind: number;
  updated_at: string | null;
}

/** One host of a fleet mirror as its sources record it. */
export interface HostStatus {
  host: string;
  sources: number;
  rows: number;
  rejects: number;
  /** Bytes between each file's checkpoint and its size when last read. */
  lag_bytes: number;
  updated_at: string | null;
}

export interface HostScope {
  /** Only this host's events (default: every host). */
  host?: string;
}

export interface ExportQuery {
  streams?: string[];
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** file (default): oldest rotated file first, then byte offset; time: log order (docs/metrics.md). */
  sort?: 'file' | 'time';
}

/** Where a feed page ends, as the engine that returned it orders rows; opaque above the store. */
export type FeedPosition = readonly (string | number)[];

export interface FeedEntry {
  line: string;
  position: FeedPosition;
}

export interface QueryRows {
  /** The result's column names, known before the first row. */
  columns: string[];
  /** The rows, one at a time: memory stays flat however many there are. */
  rows: Iterable<Record<string, unknown>>;
}

/**
 * Rows per multi-row INSERT in a batch of the ingest: one statement for 25
 * rows instead of 25 cuts N-API calls and statement resets (+12% measured in
 * DESIGN-15 2a; 50 gains no more).
 */
export const EVENT_GROUP = 25;
