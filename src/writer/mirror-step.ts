import { MirrorError } from '../errors.js';
import { ingestLive } from '../ingest/ingest-live.js';
import { ingestOwnLines } from '../ingest/ingest-own.js';
import type { Store } from '../store/api.js';
import { engineEntry } from '../store/engine.js';
import { engineOf } from '../store/engines.js';
import { RECHECK_MS, type OpenStream, type StreamFiles } from './streams.js';

/** A database server's bounds on the mirror step: a lost server delays an append by at most about this much, once per retry period. */
const CONNECT_MS = 500;
const STATEMENT_MS = 2000;

function mirrorError(err: unknown, db: string): MirrorError {
  const e = engineOf(db).explainError(err, db);
  if (!(e instanceof MirrorError)) return new MirrorError('DB_OPEN_FAILED', `${engineEntry(db).label(db)}: ${(e as Error).message}`, { cause: err });
  // Another process's lock on the mirror holds the mirror step back, never the append.
  if (e.code === 'DB_LOCKED' && !(err instanceof MirrorError)) return new MirrorError('DB_LOCKED', `${db} is locked by another process; appends go on, the mirror catches up later`);
  return e;
}

export interface MirrorStepOptions {
  /** false: the writer appends to the files only, every step is skipped. */
  enabled: boolean;
  dir: string;
  dbPath: string;
  /** The writer's open files: their cached sources are forgotten when the connection changes. */
  files: StreamFiles;
  budgetMs: number;
  retryAfterMs: number;
  hostId?: string;
  onProblem: (err: MirrorError) => void;
}

/**
 * The mirror step after an append: the writer's one connection (opened
 * lazily, reopened when the DB file was replaced), the stream's new lines
 * into the mirror within the budget, and what happens when that fails
 * (skip, count, tell once per kind of problem, retry later). Never throws.
 */
export class MirrorStep {
  private store: Store | undefined;
  private dbCheckedAt = 0;
  private nextAttempt = 0;
  private skippedSinceSuccess = 0;
  private reported = new Set<string>();
  /** The last mirror problem, until a step succeeds again. */
  problem: MirrorError | undefined;
  /** Lines the steps' ingest made rejects of (a line glued onto another writer's unfinished one, another writer's bad line). */
  rejected = 0;

  constructor(private readonly opts: MirrorStepOptions) {}

  /** Mirrors what `events` appends left in the stream's file; false when skipped (the next ingest picks them up). */
  run(stream: string, s: OpenStream, events: number): boolean {
    if (!this.opts.enabled) return false;
    const now = Date.now();
    if (now < this.nextAttempt) {
      this.skippedSinceSuccess += events;
      s.own = null;
      return false;
    }
    try {
      const store = this.connect(now);
      // This writer's own lines straight from memory when nothing else is after the checkpoint; otherwise the ingest path.
      let next = store.insertSaysHeld && s.hint && s.own && s.own.lines.length > 0 ? ingestOwnLines(store, s.hint, s.fd, s.own) : undefined;
      if (next === undefined) {
        const t = ingestLive(store, this.opts.dir, stream, s.fd, { maxBatches: 1, batchBytes: 256 * 1024 }, s.hint);
        s.hint = t.source;
        this.rejected += t.rejects;
        const to = s.hint && store.sourceById(s.hint.sourceId)?.offset;
        next = to === undefined ? undefined : { from: to, lines: [] };
      }
      s.own = next ?? null;
      if (this.skippedSinceSuccess > 0) {
        const prev = Number(store.getMeta('mirror_skips') ?? 0);
        store.setMeta('mirror_skips', String(prev + this.skippedSinceSuccess));
        this.skippedSinceSuccess = 0;
      }
      this.problem = undefined;
      this.reported = new Set();
      return true;
    } catch (err) {
      const e = mirrorError(err, this.opts.dbPath);
      if (e.code !== 'DB_LOCKED' && this.store) {
        this.store.close();
        this.store = undefined;
      }
      this.report(e);
      s.own = null;
      this.nextAttempt = now + this.opts.retryAfterMs;
      this.skippedSinceSuccess += events;
      return false;
    }
  }

  close(): void {
    this.store?.close();
  }

  private report(err: MirrorError): void {
    this.problem = err;
    if (this.reported.has(err.code)) return;
    this.reported.add(err.code);
    this.opts.onProblem(err);
  }

  private connect(now: number): Store {
    if (this.store && now - this.dbCheckedAt >= RECHECK_MS) {
      this.dbCheckedAt = now;
      if (this.store.movedOnDisk()) {
        this.store.close();
        this.store = undefined;
      }
    }
    if (!this.store) {
      // The writer never sets a mirror up; a server that is away costs one bounded connection attempt per retry period, never a failed append.
      this.store = engineOf(this.opts.dbPath).open(this.opts.dbPath, {
        hostId: this.opts.hostId, mustExist: true, migrate: false, busyTimeoutMs: this.opts.budgetMs, connectMs: CONNECT_MS, statementMs: STATEMENT_MS,
      });
      this.dbCheckedAt = now;
      for (const o of this.opts.files.values()) o.hint = undefined;
    }
    return this.store;
  }
}
